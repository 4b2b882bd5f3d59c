// A Kabar webhook receiver in Go, standard library only.
//
//	KABAR_WEBHOOK_SECRET=your-secret PORT=3000 go run receiver.go
//
// It listens on 127.0.0.1:$PORT (3000 by default; 0 picks a free port) and prints
// `listening <port>`. For every POST it checks X-Signature, the lowercase hex
// HMAC-SHA256 of the raw body keyed with your webhook secret, then answers
//
//	200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, or
//	401 and prints {"verified":false}.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// verifySignature compares in constant time (hmac.Equal), so timing does not reveal how much
// of a forged signature was right.
func verifySignature(rawBody []byte, signature, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(rawBody)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
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
		port = "3000"
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
		raw, err := io.ReadAll(r.Body) // the exact bytes Kabar signed
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !verifySignature(raw, r.Header.Get("X-Signature"), secret) {
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
