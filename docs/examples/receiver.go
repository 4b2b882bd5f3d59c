// A Kabar webhook receiver in Go, standard library only.
//
//	KABAR_WEBHOOK_SECRET=your-secret PORT=8080 go run receiver.go
//
// It listens on 127.0.0.1:$PORT (8080 by default, since Kabar itself uses 3000; 0 picks a free
// port) and prints `listening <port>`. For every POST it checks the signatures, keyed with your
// webhook secret: X-Signature (the lowercase hex HMAC-SHA256 of the raw body) or Standard
// Webhooks' webhook-signature (base64 HMAC-SHA256 of "id.timestamp.body", at most 5 minutes
// old). If either one is right, it answers
//
//	200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, otherwise
//	401 and prints {"verified":false}.
//
// A body over 1 MiB gets 413 and no line: Kabar's events are far smaller.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const maxBody = 1 << 20 // 1 MiB

// verifySignature compares in constant time (hmac.Equal), so timing does not reveal how much
// of a forged signature was right.
func verifySignature(rawBody []byte, signature, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(rawBody)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}

// verifyStandard checks Standard Webhooks' webhook-signature. It also covers the id and the
// time of the attempt, so a request recorded and sent again later than tolerance is refused.
func verifyStandard(rawBody []byte, h http.Header, secret string, tolerance time.Duration) bool {
	id := h.Get("webhook-id")
	ts := h.Get("webhook-timestamp")
	if id == "" || ts == "" || strings.Trim(ts, "0123456789") != "" {
		return false // ParseInt alone would take "+1" and "-1"
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if age := time.Since(time.Unix(sent, 0)); age > tolerance || age < -tolerance {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(rawBody)
	expected := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for _, entry := range strings.Fields(h.Get("webhook-signature")) {
		version, sig, _ := strings.Cut(entry, ",")
		if version == "v1" && hmac.Equal([]byte(sig), expected) {
			return true
		}
	}
	return false
}

func say(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b)) // os.Stdout is unbuffered
}

func main() {
	secret := os.Getenv("KABAR_WEBHOOK_SECRET")
	if secret == "" {
		fmt.Fprintln(os.Stderr, "Set KABAR_WEBHOOK_SECRET to the webhook secret saved in Kabar.")
		os.Exit(2)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		// The exact bytes Kabar signed. MaxBytesReader stops a client that sends gigabytes.
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge) // or the client went away
			return
		}
		// Either signature will do. To refuse replays outright, drop the X-Signature check.
		if !verifySignature(raw, r.Header.Get("X-Signature"), secret) &&
			!verifyStandard(raw, r.Header, secret, 5*time.Minute) {
			say(struct {
				Verified bool `json:"verified"`
			}{false})
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var payload struct { // {"event","data","timestamp"}
			Event string `json:"event"`
		}
		_ = json.Unmarshal(raw, &payload)
		// X-Webhook-Id is the same on every retry of one event: use it to drop duplicates.
		say(struct {
			Verified bool   `json:"verified"`
			Event    string `json:"event"`
			ID       string `json:"id"`
		}{true, payload.Event, r.Header.Get("X-Webhook-Id")})
		w.WriteHeader(http.StatusOK) // answer quickly; do slow work after answering
	})
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
	os.Exit(1)
}
