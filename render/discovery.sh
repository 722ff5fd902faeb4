# nap's discovery sidekick: announces one app instance in etcd while it answers.
#
# Run by APP.PROC.R.discovery@.service as
#   /bin/bash -c SCRIPT nap-discovery DOCKER ETCDCTL API ENDPOINTS TTL KEY CONTAINER HOST FORMAT PROBE
# Every value arrives as an argument; none is ever spliced into this text.
#   API       v2 or v3 (etcd's API)
#   ENDPOINTS comma-separated etcd client URLs
#   FORMAT    a docker inspect template printing RUNNING|HEALTH|IP|JSON-TAIL,
#             where JSON-TAIL is the value after "host" ("port":…,"ports":{…},"release":…})
#             and holds null while a port is not published yet
#   PROBE     "health" (wait for docker's healthy), a container port (wait until
#             the app accepts TCP on the container's address), or "none"
#
# render joins the lines below into the one line an ExecStart= word can hold:
# every line must end where a newline may become a space (";", "then", "do",
# "{", "else", "in", "||", "&&"), and no comment may follow code on a line.
docker=$1; etcdctl=$2; api=$3; endpoints=$4; ttl=$5; key=$6; name=$7; host=$8; format=$9; probe=${10};
# The instance is checked every "watch" seconds and the key written again once
# "refresh" whole seconds passed since the last write: SECONDS counts whole
# seconds, so a write follows the previous one within refresh+1+watch seconds
# plus one check, under TTL/3. Short TTLs write on every check.
watch=2;
if [ "$ttl" -lt 12 ]; then watch=1; fi;
refresh=$((ttl / 3 - watch - 2));
if [ "$refresh" -lt 0 ]; then refresh=0; fi;
# The host goes into a JSON string: escape what JSON requires, drop what it forbids.
host=${host//\\/\\\\}; host=${host//\"/\\\"}; host=${host//[[:cntrl:]]/};
value=""; sent=""; was=""; ip=""; tail=""; reuse=0; lease=""; err=""; shown=""; sleeper=""; failures=0; next=0;
# A predecessor killed with SIGKILL may have left the key: withdraw it if the
# instance turns out not to answer.
dirty=1;
say() {
  if [ "$1" != "$shown" ]; then shown=$1; printf '%s\n' "$1"; fi;
};
pause() {
  sleep "$1" & sleeper=$!;
  wait "$sleeper"; sleeper="";
};
etcd2() {
  ETCDCTL_API=2 "$etcdctl" --endpoints "$endpoints" --timeout 1s --total-timeout 3s "$@";
};
etcd3() {
  ETCDCTL_API=3 "$etcdctl" --endpoints="$endpoints" --dial-timeout=1s --command-timeout=3s "$@";
};
# ready succeeds when the container runs, every port is published and the app
# answers; it leaves the value to announce in $value. While a running
# container's app does not accept TCP yet, docker's answer is reused for 3
# more polls (under 1 s): the probe is cheap, docker inspect is not, and the
# announcement's latency is one poll plus one probe.
ready() {
  local out running health fresh=0;
  if [ "$reuse" -gt 0 ]; then
    reuse=$((reuse - 1));
  else
    fresh=1;
    if ! out=$("$docker" inspect --type container --format "$format" -- "$name" 2>/dev/null); then
      say "waiting for container $name"; return 1;
    fi;
    IFS='|' read -r running health ip tail <<<"$out";
    if [ "$running" != true ] || [[ $tail == *null* ]]; then
      say "waiting for container $name to run with its ports published"; return 1;
    fi;
    if [ "$probe" = health ] && [ "$health" != healthy ]; then
      say "waiting for container $name to be healthy (${health:-no status})"; return 1;
    fi;
  fi;
  if [ "$probe" != health ] && [ "$probe" != none ]; then
    if ! timeout 1 "$BASH" -c ": <>\"/dev/tcp/\$0/\$1\"" "$ip" "$probe" 2>/dev/null; then
      if [ "$fresh" = 1 ]; then reuse=3; fi;
      say "waiting for container $name to accept TCP on $ip:$probe"; return 1;
    fi;
  fi;
  reuse=0;
  value="{\"host\":\"$host\",$tail";
};
# put writes the key: v2 sets it with a TTL; v3 keeps its lease alive while the
# value stays the same, else (or when the lease expired) grants a new lease and
# puts the key with it; until that put succeeds no keep-alive counts.
put() {
  local out;
  if [ "$api" = v2 ]; then
    err=$(etcd2 set --ttl "$ttl" -- "$key" "$value" 2>&1 >/dev/null) || return 1;
    sent=$value; return 0;
  fi;
  if [ -n "$lease" ] && [ "$value" = "$sent" ] && err=$(etcd3 lease keep-alive --once "$lease" 2>&1 >/dev/null); then return 0; fi;
  sent="";
  out=$(etcd3 lease grant "$ttl" -w json 2>&1) || { err=$out; return 1; };
  if ! [[ $out =~ \"ID\":([0-9]+) ]]; then err="unexpected answer to lease grant: $out"; return 1; fi;
  printf -v lease '%x' "${BASH_REMATCH[1]}";
  err=$(etcd3 put --lease="$lease" -- "$key" "$value" 2>&1 >/dev/null) || return 1;
  sent=$value;
};
withdraw() {
  if [ "$api" = v2 ]; then
    if ! err=$(etcd2 rm -- "$key" 2>&1 >/dev/null); then
      case $err in *"Key not found"*) ;; *) return 1 ;; esac;
    fi;
  elif ! err=$(etcd3 del -- "$key" 2>&1 >/dev/null); then
    return 1;
  fi;
  sent=""; lease="";
};
# failed logs an etcd failure (the 1st, 2nd, 4th, 8th… in a row) and backs off:
# 0.25 s doubling up to 4 s, plus up to 0.25 s of jitter so that a cluster's
# sidekicks do not all return at once.
failed() {
  local ms;
  failures=$((failures + 1));
  if [ $((failures & (failures - 1))) -eq 0 ]; then
    printf 'etcd at %s failed (%d in a row): %s\n' "$endpoints" "$failures" "${err##*$'\n'}"; shown="";
  fi;
  ms=4000;
  if [ "$failures" -lt 5 ]; then ms=$((125 << failures)); fi;
  ms=$((ms + RANDOM % 250));
  pause "$((ms / 1000)).$((ms % 1000 / 100))$((ms % 100 / 10))$((ms % 10))";
};
stop() {
  trap - TERM INT;
  if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null; fi;
  if withdraw; then say "withdrew $key"; else printf 'could not withdraw %s (it expires after %ss): %s\n' "$key" "$ttl" "${err##*$'\n'}"; fi;
  exit 0;
};
trap stop TERM INT;
while :; do
  if ready; then
    if [ "$value" != "$sent" ] || [ "$SECONDS" -ge "$next" ]; then
      if ! put; then failed; continue; fi;
      failures=0; dirty=1; next=$((SECONDS + refresh));
      say "announced $key = $value";
    fi;
    pause "$watch"; continue;
  fi;
  if [ "$dirty" = 1 ]; then
    was=$sent;
    if ! withdraw; then failed; continue; fi;
    failures=0; dirty=0;
    if [ -n "$was" ]; then say "withdrew $key"; fi;
  fi;
  pause 0.25;
done;
