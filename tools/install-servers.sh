#!/usr/bin/env bash
# Install the real servers the tests start (etcd, ZooKeeper, Redis) from Debian's packages, once.
set -euo pipefail
need=()
command -v etcd >/dev/null && command -v etcdctl >/dev/null || need+=(etcd-server etcd-client)
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
# The tests run ZooKeeper's jar directly, with slf4j's no-op logger on the classpath.
[ -f /usr/share/java/slf4j-nop.jar ] || need+=(libslf4j-java)
command -v redis-server >/dev/null || need+=(redis-server)
# PostgreSQL, for the network-store template (template/confo-postgres).
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
command -v java >/dev/null || need+=(default-jre-headless)
# docs/cli.md pipes the command's JSON into jq, as its readers will.
command -v jq >/dev/null || need+=(jq)
# The console's end-to-end tests drive a real headless Chromium (confo-web/tests).
command -v chromium >/dev/null && command -v chromedriver >/dev/null || need+=(chromium chromium-driver)
if [ ${#need[@]} -eq 0 ]; then
  echo "servers: etcd, ZooKeeper, Redis and PostgreSQL (and jq, Chromium) are installed"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "servers: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the packaged services; the tests start their own on free ports instead.
for service in etcd zookeeper redis-server postgresql; do
  $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true
done
