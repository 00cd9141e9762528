#!/usr/bin/env bash
# Start the main job: Airflow standalone (SQLite, examples off, low parallelism) with the
# PledgeWatch DAGs loaded and unpaused. Ctrl-C stops every child process.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$ROOT/.venv/bin:$PATH"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
# Task processes reach the api-server's execution API here (Airflow assumes port 8080 otherwise).
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://localhost:${AIRFLOW__API__PORT}/execution/}"
export PLEDGEWATCH_DATA_DIR="${PLEDGEWATCH_DATA_DIR:-$ROOT/data}"
mkdir -p "$AIRFLOW_HOME" "$PLEDGEWATCH_DATA_DIR"

pledgewatch db upgrade
if [ -z "${PLEDGEWATCH_SLACK_WEBHOOK_URL:-}${PLEDGEWATCH_SLACK_BOT_TOKEN:-}" ]; then
  echo "Slack is not configured: alerts are printed in the pledgewatch_alerts task logs and kept in the outbox."
fi

# The metadata DB first (standalone would migrate too), so that the fetch pool exists before the
# scheduler sees a scrape run: it bounds how many scrape batches run at once (the politeness budget).
airflow db migrate > "$AIRFLOW_HOME/migrate.log" 2>&1 || { tail -n 40 "$AIRFLOW_HOME/migrate.log"; exit 1; }
SLOTS="$(python -c 'from pipeline.airflow_support import fetch_pool_slots; print(fetch_pool_slots())')"
airflow pools set pledgewatch_fetch "$SLOTS" "PledgeWatch scrape batches at once (scrape_workers / scrape_batch_size)" > /dev/null

# A new session, so that we can stop the whole process group (standalone's children included).
setsid airflow standalone > "$AIRFLOW_HOME/standalone.log" 2>&1 &
PID=$!
stop() {
  echo; echo "stopping Airflow (process group $PID)..."
  kill -TERM -- "-$PID" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 -- "-$PID" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$PID" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

PASSFILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
URL="http://localhost:${AIRFLOW__API__PORT}"
for _ in $(seq 1 120); do
  if curl -fs "$URL/api/v2/monitor/health" >/dev/null 2>&1; then break; fi
  kill -0 "$PID" 2>/dev/null || { echo "Airflow exited; see $AIRFLOW_HOME/standalone.log"; tail -n 40 "$AIRFLOW_HOME/standalone.log"; exit 1; }
  sleep 1
done
echo "PledgeWatch is running."
echo "  Airflow UI:      $URL  (user: admin)"
echo "  admin password:  in $PASSFILE"
echo "  dashboard:       \"Commitments\" in the UI menu ($URL/pledgewatch/)"
echo "  database:        $(pledgewatch config --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["database_url"])')"
echo "  command line:    PLEDGEWATCH_DATA_DIR=$PLEDGEWATCH_DATA_DIR $ROOT/.venv/bin/pledgewatch sources list  (same database)"
echo "  Airflow log:     $AIRFLOW_HOME/standalone.log (task logs under $AIRFLOW_HOME/logs)"
echo "Press Ctrl-C to stop."
wait "$PID"
