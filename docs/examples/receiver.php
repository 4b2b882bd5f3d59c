<?php
// A Kabar webhook receiver in plain PHP (7.4+), for PHP's built-in server or any web server.
//
//   KABAR_WEBHOOK_SECRET=your-secret php -S 127.0.0.1:8080 receiver.php
//
// (Port 8080, since Kabar itself uses 3000.) For every POST it checks the signatures, keyed with
// your webhook secret: X-Signature (the lowercase hex HMAC-SHA256 of the raw body) or Standard
// Webhooks' webhook-signature (base64 HMAC-SHA256 of "id.timestamp.body", at most 5 minutes
// old). If either one is right, it answers
//   200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, otherwise
//   401 and prints {"verified":false}
// on the server's console (php://stdout). Behind Apache or nginx, set the secret in the
// environment of PHP (e.g. SetEnv / fastcgi_param) and log where you like.
//
// KABAR_WEBHOOK_SECRET is required. PHP's server starts before this file runs, so it cannot
// refuse to start without it: every request then gets 500 and the reason on the console
// (php://stderr), rather than a 401 that would blame Kabar's signature.

function say(array $line): void
{
    file_put_contents('php://stdout', json_encode($line, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
}

// Standard Webhooks: the signature also covers the id and the time of the attempt, so a request
// recorded and sent again later than $toleranceSecs is refused.
function verify_standard(string $raw, string $secret, int $toleranceSecs = 300): bool
{
    $id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
    $ts = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
    if (!is_string($id) || $id === '' || !is_string($ts) || !preg_match('/\A[0-9]+\z/', $ts)) {
        return false;
    }
    if (abs(time() - (int) $ts) > $toleranceSecs) {
        return false;
    }
    $expected = base64_encode(hash_hmac('sha256', $id . '.' . $ts . '.' . $raw, $secret, true));
    foreach (explode(' ', (string) ($_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '')) as $entry) {
        [$version, $sig] = array_pad(explode(',', $entry, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $sig)) {
            return true;
        }
    }
    return false;
}

$secret = (string) getenv('KABAR_WEBHOOK_SECRET');
if ($secret === '') {
    file_put_contents('php://stderr', "Set KABAR_WEBHOOK_SECRET to the webhook secret saved in Kabar.\n");
    if (PHP_SAPI === 'cli') {
        exit(2); // run as `php receiver.php`
    }
    http_response_code(500);
    exit;
}
if (PHP_SAPI === 'cli') {
    file_put_contents('php://stderr', 'Serve this file: php -S 127.0.0.1:8080 ' . basename(__FILE__) . "\n");
    exit(2);
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    header('Allow: POST');
    http_response_code(405);
    exit;
}

// Hash the raw body, never json_encode(json_decode(...)): PHP would write the JSON differently
// (escaped slashes and Unicode) and the signature would not match.
$raw = file_get_contents('php://input');
$expected = hash_hmac('sha256', $raw, $secret);
$given = $_SERVER['HTTP_X_SIGNATURE'] ?? '';

// hash_equals compares in constant time, so timing does not reveal how much of a forged
// signature was right. Either signature will do; to refuse replays outright, drop the
// X-Signature check.
$valid = is_string($given) && hash_equals($expected, $given);
if (!$valid && !verify_standard($raw, $secret)) {
    say(['verified' => false]);
    http_response_code(401);
    exit;
}

$payload = json_decode($raw, true); // ["event" => …, "data" => […], "timestamp" => …]
$event = is_array($payload) ? (string) ($payload['event'] ?? '') : '';
// X-Webhook-Id is the same on every retry of one event: use it to drop duplicates.
say(['verified' => true, 'event' => $event, 'id' => $_SERVER['HTTP_X_WEBHOOK_ID'] ?? '']);
http_response_code(200); // answer quickly; do slow work after answering
