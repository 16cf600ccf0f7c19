#!/bin/sh
# notify: events of a calibration POSTed to a real HTTP server on
# 127.0.0.1 (test/notify_server.py), through libcurl: one per closed
# iteration and one when done, as status --json shows the iteration; a
# Slack-format endpoint; headers from the environment; a failure event;
# servers that fail, hang or refuse cost at most their timeout and leave a
# record; bad notify sections are refused with the file, line and key.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
# serve NAME MODE: a recording server; its port in NAME.port.
serve() {
	"$PY" "$TOP/test/notify_server.py" "$TRASH/$1.rec" "$TRASH/$1.port" "$2" &
	pids="$pids $!"
	poll 20 test -s "$1.port" || echo "Bail out! $1 did not start"
	: >>"$1.rec"
}
serve ok ok
serve fail fail
serve hang hang
okp=$(cat ok.port)

# 1. A calibration of 2 iterations: 3 iteration events and done, with the
#    token from the environment; a Slack endpoint takes done only.
SIZE=4 ITERATIONS=2 make_experiment ex "notify:
  - url: 'http://127.0.0.1:$okp/hook/\${CALIB_TEST_HOOK}'
    headers: {X-Token: 'Bearer \${CALIB_TEST_TOKEN}', X-Run: fixed}
  - url: http://127.0.0.1:$okp/slack
    format: slack
    events: [done]"
CALIB_TEST_TOKEN=t0k3n CALIB_TEST_HOOK=secret try "$CALIB" run ex/calib.yaml
expect_rc 0 "a calibration with notify runs"
"$PY" - ok.rec "$TRASH/ex/output" <<'PY' >ev.txt
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = json.loads(r["body"])
    if r["path"] == "/slack":
        print("slack", sorted(b.keys()), b["text"])
    else:
        print(b["event"], b["iteration"], r["headers"].get("X-Token"),
              r["headers"].get("Content-Type"), b["output_dir"] == sys.argv[2],
              r["path"])
PY
check "iteration 0, 1 and 2 closed, then done" test "$(grep -v '^slack' ev.txt | cut -d' ' -f1-2 | tr '\n' ' ')" = \
    "iteration 0 iteration 1 iteration 2 done 2 "
check "the header's and the url's \${VAR} come from the environment" \
    test "$(grep -c 'Bearer t0k3n application/json True /hook/secret$' ev.txt)" -eq 4
check "the Slack endpoint gets done alone, as {\"text\": ...}" \
    test "$(grep -c '^slack' ev.txt)" -eq 1
check "its text says done" grep -q "^slack \['text'\] tiny: done after 2 iterations, misfit" ev.txt
# Each event's iteration is as status --json shows it.
"$CALIB" status --json ex/calib.yaml >status.json
"$PY" - ok.rec status.json <<'PY' >same.txt
import json, sys
st = {i["iteration"]: i for i in json.load(open(sys.argv[2]))["iterations"]}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/slack":
        continue
    b = json.loads(r["body"])
    s = st[b["iteration"]]
    print(all(b[k] == s[k] for k in s), b["summary"].startswith("tiny: "))
PY
check "every event carries its iteration's status --json fields" \
    test "$(grep -c '^True True$' same.txt)" -eq 4
check "each delivery is recorded" test "$(ls ex/output/notify | wc -l)" -eq 5
check "as delivered, the webhook's path not written" sh -c \
    "cat ex/output/notify/000.iteration.1.*.json | grep -q '\"delivered\": true' &&
     ! grep -rq secret ex/output/notify"

# 2. Too few members succeed: the failure event, and the run fails.
SIZE=4 ITERATIONS=2 make_experiment fl "notify: {url: 'http://127.0.0.1:$okp/f', events: [failure]}
algorithm: {failures: {min_success: 4}}"
echo "fail 2" >fl/mode
: >ok.rec
try "$CALIB" run fl/calib.yaml
expect_rc 1 "a run with a failing member and min_success 4 fails"
check "one failure event is sent" test "$(wc -l <ok.rec)" -eq 1
check "saying why" grep -q 'failure.*3 of 4 members succeeded; min_success needs 4' ok.rec

# The first members all failing alike stop the local driver: a failure
# event from calib run, with the iteration's status.
SIZE=10 ITERATIONS=1 make_experiment al "notify: {url: 'http://127.0.0.1:$okp/a', events: [failure]}"
sed -i 's|command: \["/bin/sh", "[^"]*"|command: ["/bin/sh", "broken.sh"|' al/calib.yaml
: >ok.rec
try "$CALIB" run -j 2 al/calib.yaml
expect_rc 1 "members that all fail alike stop the run"
check "one failure event, sent by calib run" test "$(wc -l <ok.rec)" -eq 1
check "saying so" grep -q 'tiny: iteration 0: the first [0-9]* members all failed the same way (exit status 2) and none succeeded; stopped launching the others' ok.rec
check "with the iteration's failures" grep -q '\\"failures\\": *{\\"failed\\": *[1-9]' ok.rec

# An early stop (the data_misfit controller) sends stop, not done, with
# its reason; a member out of time sends timeout.
SIZE=4 ITERATIONS=20 TIMEOUT=1s make_experiment st "notify: {url: 'http://127.0.0.1:$okp/s', events: [stop, done, timeout]}
algorithm: {timestep: {data_misfit: {terminate_at: 0.5}}, failures: {min_success: 2}}"
echo "hang 3" >st/mode
: >ok.rec
try "$CALIB" run st/calib.yaml
expect_rc 0 "a calibration stopped early runs"
"$PY" - ok.rec <<'PY' >stop.txt
import json, sys
for line in open(sys.argv[1]):
    b = json.loads(json.loads(line)["body"])
    print(b["event"], b["iteration"], b.get("reason", "-"), b["summary"])
PY
last=$(ls -d st/output/iteration_* | tail -1)
last=$(expr "${last##*_}" + 0)
check "it stopped before its 20 iterations" test "$last" -lt 20
check "one stop event, of the last iteration, with the reason" \
    test "$(grep -c "^stop $last the data_misfit timestep reached terminate_at" stop.txt)" -eq 1
check "no done event" sh -c "! grep -q '^done' stop.txt"
check "a timeout event for iteration 0, member 3 out of time" \
    grep -q '^timeout 0 - tiny: iteration 0: 1 members ran out of time' stop.txt

# 3. A server that answers 500, one that hangs, one that is gone: the
#    calibration ends all the same and each event is recorded with why.
SIZE=4 ITERATIONS=1 make_experiment bad "notify:
  - {url: 'http://127.0.0.1:$(cat fail.port)/secret2?key=secret3', retries: 1, timeout: 5s, events: [iteration]}
  - {url: 'http://127.0.0.1:$(cat hang.port)/x', timeout: 1s, events: [iteration]}
  - {url: 'http://127.0.0.1:1/x', timeout: 2s, retries: 0, events: [iteration]}"
try "$CALIB" run bad/calib.yaml
expect_rc 0 "a calibration whose endpoints fail still ends well"
check "the failing server was asked twice per event (retries: 1)" \
    test "$(wc -l <fail.rec)" -eq 4
check "its records say HTTP 500" sh -c \
    "grep -l 'HTTP 500' bad/output/notify/*.1.*.json | wc -l | grep -qx 2"
check "the hanging one's say it timed out" sh -c \
    "grep -l 'imed out' bad/output/notify/*.2.*.json | wc -l | grep -qx 2"
check "the one gone says it could not connect" sh -c \
    "grep -li 'connect' bad/output/notify/*.3.*.json | wc -l | grep -qx 2"
check "none says delivered" sh -c "! grep -q '\"delivered\": true' bad/output/notify/*.json"
check "the hanging one was asked once per event: the timeout was spent" sh -c \
    "grep -l '\"attempts\": 1,' bad/output/notify/*.2.*.json | wc -l | grep -qx 2"
check "no record or log holds the failing URL's path or query" sh -c \
    "! grep -rq 'secret[23]' bad/output/notify bad/output/iteration_*/update.log"
check "the update's log says why" grep -q "notify iteration of iteration 0: http://127.0.0.1:1/...: " bad/output/iteration_000/update.log

# 4. A variable that is not set: not sent, recorded.
SIZE=4 ITERATIONS=0 make_experiment nv "notify:
  - {url: 'http://127.0.0.1:$okp/v', headers: {X-Token: '\${CALIB_TEST_UNSET}'}}
  - {url: 'http://127.0.0.1:$okp/w', headers: {X-Token: 'a\${CALIB_TEST_CR}'}}"
: >ok.rec
CALIB_TEST_CR=$(printf 'b\rX-Evil: 1') try env -u CALIB_TEST_UNSET "$CALIB" run nv/calib.yaml
expect_rc 0 "a calibration whose headers cannot be made ends well"
check "an unset variable, or one with a line break, sends nothing" test ! -s ok.rec
check "the unset one is recorded" grep -q 'environment variable CALIB_TEST_UNSET is not set' nv/output/notify/000.iteration.1.*.json
check "the line break too" grep -q 'header X-Token: has a control character after its environment variables' nv/output/notify/000.iteration.2.*.json

# A proxy's password in libcurl's message never reaches a record or a log.
SIZE=4 ITERATIONS=0 make_experiment px "notify: {url: 'http://example.invalid/p', retries: 0, timeout: 2s}"
http_proxy='http://user:s3cr3t@pro xy:3128' try "$CALIB" run px/calib.yaml
expect_rc 0 "a calibration behind a broken proxy setting ends well"
check "its record says why" grep -q '"delivered": false' px/output/notify/000.iteration.1.*.json
check "without the proxy's password" sh -c \
    "! grep -rq s3cr3t px/output/notify px/output/iteration_000/update.log"

# 5. Bad notify sections, named with file, line, column and key.
bad_notify() {
	SIZE=4 make_experiment "$1" "$2"
	try "$CALIB" check "$1/calib.yaml"
	expect_rc 2 "$3 is refused"
	check "naming the key" has err "$4"
}
bad_notify b1 "notify: {url: 'ftp://127.0.0.1/x'}" "an ftp URL" \
    "b1/calib.yaml:18:15: 'notify.url': expected an http:// or https:// URL"
bad_notify b2 "notify: {url: 'http://h/x', events: [iteration, finished]}" \
    "an unknown event" "'notify.events': unknown event 'finished'"
bad_notify b3 "notify: [{url: 'http://h/x', headers: {X-A: \"a\\r\\nX-B: b\"}}]" \
    "a header with a line break" "'notify[0].headers': 'X-A' has a control character or line break"
bad_notify b4 "notify: {url: 'http://h/x', headers: {X-A: '\${1X}'}}" \
    "a header with a bad variable" "'X-A' has '\${...}' that is not a variable name"
bad_notify b5 "notify: {url: 'http://h/x', timeout: 1h}" "a timeout of an hour" \
    "'notify.timeout': expected a duration of at most 5m"
bad_notify b6 "notify: {url: 'http:///T000/B000'}" "a URL without a host" \
    "'notify.url': has no host"
bad_notify b7 "notify: {url: 'http://h/x', events: []}" "an empty list of events" \
    "'notify.events': an empty list takes no event"

done_testing
