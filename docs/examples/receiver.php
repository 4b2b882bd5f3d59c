<?php
// A Kabar webhook receiver in plain PHP (7.4+), for PHP's built-in server or any web server.
//
//   KABAR_WEBHOOK_SECRET=your-secret php -S 127.0.0.1:3000 receiver.php
//
// For every POST it checks X-Signature, the lowercase hex HMAC-SHA256 of the raw body keyed
// with your webhook secret, then answers
//   200 and prints {"verified":true,"event":"<event>","id":"<X-Webhook-Id>"}, or
//   401 and prints {"verified":false}
// on the server's console (php://stdout). Behind Apache or nginx, set the secret in the
// environment of PHP (e.g. SetEnv / fastcgi_param) and log where you like.

function say(array $line): void
{
    file_put_contents('php://stdout', json_encode($line, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    header('Allow: POST');
    http_response_code(405);
    exit;
}

$secret = (string) getenv('KABAR_WEBHOOK_SECRET');
// Hash the raw body, never json_encode(json_decode(...)): PHP would write the JSON differently
// (escaped slashes and Unicode) and the signature would not match.
$raw = file_get_contents('php://input');
$expected = hash_hmac('sha256', $raw, $secret);
$given = $_SERVER['HTTP_X_SIGNATURE'] ?? '';

// hash_equals compares in constant time, so timing does not reveal how much of a forged
// signature was right.
if ($secret === '' || !is_string($given) || !hash_equals($expected, $given)) {
    say(['verified' => false]);
    http_response_code(401);
    exit;
}

$payload = json_decode($raw, true); // ["event" => …, "data" => […], "timestamp" => …]
$event = is_array($payload) ? (string) ($payload['event'] ?? '') : '';
// X-Webhook-Id is the same on every retry of one event: use it to drop duplicates.
say(['verified' => true, 'event' => $event, 'id' => $_SERVER['HTTP_X_WEBHOOK_ID'] ?? '']);
http_response_code(200); // answer quickly; do slow work after answering
