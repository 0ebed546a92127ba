<?php
// Ledgerwhisk's PHP launcher: loads the action ($argv[1], with a zip's
// vendor/autoload.php) and calls its main function ($argv[2]) once per
// activation, speaking OpenWhisk's actionloop protocol with the proxy: one
// JSON line per activation on stdin, one answer line on file descriptor 3,
// {"result": ...}.
$answers = fopen('php://fd/3', 'w');
[, $source, $mainName] = $argv;

function ledgerwhisk_answer($answers, array $answer): void
{
    flush();
    fflush(STDERR);
    $line = json_encode($answer, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
    if ($line === false) {
        fwrite(STDERR, "The action's result is not JSON serialisable: " . json_last_error_msg() . "\n");
        $line = '{"result": null}';
    }
    fwrite($answers, $line . "\n");
    fflush($answers);
}

try {
    chdir(dirname($source));
    if (file_exists(dirname($source) . '/vendor/autoload.php')) {
        require dirname($source) . '/vendor/autoload.php';
    }
    require $source;
    if (!function_exists($mainName)) {
        throw new Error("The action has no function named '$mainName'.");
    }
} catch (Throwable $e) {
    fwrite(STDERR, (string) $e . "\n");
    $message = str_starts_with($e->getMessage(), 'The action') ? $e->getMessage() : get_class($e) . ': ' . $e->getMessage();
    ledgerwhisk_answer($answers, ['error' => 'Initialization has failed due to: ' . $message]);
    exit(1);
}
if (getenv('__OW_WAIT_FOR_ACK') !== false && getenv('__OW_WAIT_FOR_ACK') !== '') {
    ledgerwhisk_answer($answers, ['ok' => true]);
}

while (($line = fgets(STDIN)) !== false) {
    $body = json_decode($line, true);
    foreach ($body as $key => $value) {
        if ($key !== 'value') {
            // As OpenWhisk's runner.php: in $_ENV and in the process environment.
            $name = '__OW_' . strtoupper($key);
            $text = is_string($value) ? $value : json_encode($value);
            $_ENV[$name] = $text;
            putenv($name . '=' . $text);
        }
    }
    $args = is_array($body['value'] ?? null) ? $body['value'] : [];
    try {
        $result = $mainName($args);
        // As OpenWhisk's PHP runtime (runner.php): an ArrayObject or a stdClass
        // counts as an array, null as an empty one, and every array is sent as
        // a JSON object (a list's keys are its indexes).
        if (is_object($result) && method_exists($result, 'getArrayCopy')) {
            $result = $result->getArrayCopy();
        } elseif ($result instanceof stdClass) {
            $result = (array) $result;
        } elseif ($result === null) {
            $result = [];
        }
        if (is_array($result)) {
            $answer = ['result' => (object) $result];
        } else {
            fwrite(STDERR, 'The action returned ' . get_debug_type($result) . ", not an array.\n");
            $answer = ['result' => null];
        }
    } catch (Throwable $e) {
        // OpenWhisk's PHP runtime logs the exception and answers a text that is
        // no JSON: its proxy reports "The action did not return a dictionary or
        // array." (openwhisk-runtime-php core/php8.*Action/runner.php).
        fwrite(STDERR, (string) $e . "\n");
        $answer = ['result' => null];
    }
    ledgerwhisk_answer($answers, $answer);
}
