#!/usr/bin/env bash
# A local single-node Apache Kafka (KRaft) for `make run`, the tests and the bench.
#
#   deploy/local/kafka.sh start|fresh|stop|status|restart|fetch|clean
#
# The jars come from Maven Central (deploy/local/kafka-pom.xml) into a cache;
# the broker's data lives in a temporary folder. Every command is idempotent.
# `fresh` starts on empty storage unless a broker already runs: the tests use it,
# because a broker reloading the thousands of topics earlier runs left behind
# takes minutes to listen.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka-pom.xml")
cache=${HOOKSTREAM_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookstream/kafka-$version}
data=${HOOKSTREAM_KAFKA_DIR:-${TMPDIR:-/tmp}/hookstream-kafka}
port=${HOOKSTREAM_KAFKA_PORT:-9092}
controller_port=$((port + 1))
pidfile="$data/kafka.pid"
log="$data/kafka.log"

fetch() {
  [ -f "$cache/.complete" ] && return 0
  echo "kafka.sh: fetching Apache Kafka $version from Maven Central into $cache" >&2
  mkdir -p "$cache/lib"
  mvn -q -B -f "$here/kafka-pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$cache/lib" -DincludeScope=runtime >&2
  touch "$cache/.complete"
}

# The command line of process $1, or nothing when it is gone.
command_line() {
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null || true
  else
    ps -o args= -p "$1" 2>/dev/null || true
  fi
}

# Whether the pid file names this script's broker for this data folder. A live
# pid alone proves nothing: after a crash or a reboot the number may belong to
# another process, which start must not take for the broker nor stop kill.
running() {
  [ -f "$pidfile" ] || return 1
  local pid cmd; pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd=$(command_line "$pid")
  [[ "$cmd" == *" kafka.Kafka $data/server.properties"* ]]
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

java_run() {
  java -cp "$cache/lib/*" -Dlog4j2.configurationFile="$here/log4j2.xml" "$@"
}

configure() {
  mkdir -p "$data/logs"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/logs
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  if [ ! -f "$data/logs/meta.properties" ]; then
    java_run kafka.tools.StorageTool format --standalone \
      -t "$(java_run kafka.tools.StorageTool random-uuid)" \
      -c "$data/server.properties" >/dev/null
  fi
}

start() {
  if running; then echo "kafka.sh: running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return 0; fi
  if listening; then echo "kafka.sh: something already listens on 127.0.0.1:$port; using it"; return 0; fi
  fetch
  configure
  nohup java -Xms256m -Xmx1g -cp "$cache/lib/*" -Dlog4j2.configurationFile="$here/log4j2.xml" \
    kafka.Kafka "$data/server.properties" >>"$log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 360); do
    if listening; then echo "kafka.sh: started on 127.0.0.1:$port (pid $(cat "$pidfile"), data $data)"; return 0; fi
    # kill -0, not running: the child may not have exec'd java yet, and its pid is surely ours.
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "kafka.sh: the broker exited; last lines of $log:" >&2; tail -n 30 "$log" >&2; return 1; }
    sleep 0.5
  done
  echo "kafka.sh: the broker did not listen within 180 s; see $log" >&2
  return 1
}

stop() {
  running || { rm -f "$pidfile"; echo "kafka.sh: not running"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do running || break; sleep 0.5; done
  if running; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  echo "kafka.sh: stopped"
}

fresh() {
  if running || listening; then start; return; fi
  rm -rf "$data"
  start
}

status() {
  if running; then echo "kafka.sh: running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "kafka.sh: not running"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  fresh) fresh ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  fetch) fetch ;;
  clean) stop; rm -rf "$data" ;;
  *) echo "usage: $0 start|fresh|stop|restart|status|fetch|clean" >&2; exit 2 ;;
esac
