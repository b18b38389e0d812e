#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from their Go modules into a cache
# outside the repo, keyed by version; does nothing when the cached binaries report the right version.
# Usage: devstack/realkube/build.sh            (prints the binary directory on its last line)
set -euo pipefail
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.7.3
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${KAGENT_REALKUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kagent-substrate}"
BIN="$CACHE/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"

command -v go >/dev/null || { echo "realkube: 'go' not found on PATH: install Go >= 1.26 (the module proxy must be reachable)" >&2; exit 2; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# Each --version output is captured before matching: `cmd | grep -q` under pipefail fails at
# random when grep exits on the first line and the program dies of SIGPIPE writing the next.
version_of() { "$@" --version 2>/dev/null || true; }
have() {
  [ -x "$BIN/etcd" ] && [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] &&
    [ "$(version_of "$BIN/kube-apiserver")" = "Kubernetes $KUBE_VERSION" ] &&
    [ "$(version_of "$BIN/kube-controller-manager")" = "Kubernetes $KUBE_VERSION" ] &&
    [[ "$(version_of "$BIN/etcd")" == *"etcd Version: ${ETCD_VERSION#v}"* ]]
}

if have; then
  echo "realkube: cached binaries present ($BIN)" >&2
  echo "$BIN"
  exit 0
fi

mkdir -p "$BIN.tmp"
start=$(date +%s)
echo "realkube: building etcd $ETCD_VERSION (1/2) ..." >&2
(cd "$HERE/etcdbin" && go build -trimpath -ldflags "-s -w" -o "$BIN.tmp/etcd" go.etcd.io/etcd/server/v3)
echo "realkube: etcd built in $(( $(date +%s) - start )) s" >&2

date_now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
LD="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD="$LD -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date_now"
done
echo "realkube: building kube-apiserver and kube-controller-manager $KUBE_VERSION (2/2; cold: ~20-40 min on 2 cores) ..." >&2
kstart=$(date +%s)
(cd "$HERE/kubebin" && go build -trimpath -ldflags "$LD" -o "$BIN.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager)
echo "realkube: kube binaries built in $(( $(date +%s) - kstart )) s" >&2
for b in etcd kube-apiserver kube-controller-manager; do mv -f "$BIN.tmp/$b" "$BIN/$b" 2>/dev/null || { mkdir -p "$BIN"; mv -f "$BIN.tmp/$b" "$BIN/$b"; }; done
rmdir "$BIN.tmp"
have || { echo "realkube: built binaries do not report $KUBE_VERSION / $ETCD_VERSION" >&2; exit 1; }
echo "realkube: built in $(( $(date +%s) - start )) s total into $BIN" >&2
echo "$BIN"
