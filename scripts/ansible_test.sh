#!/usr/bin/env bash
# Run ansible-test sanity, units and integration on a copy of the collection.
# ansible-test needs the tree under a path that ends in
# ansible_collections/qualys/certview.
#
#   bash scripts/ansible_test.sh                      # sanity, units, integration
#   bash scripts/ansible_test.sh units                # one step
#   bash scripts/ansible_test.sh sanity --test pep8   # one step with extra ansible-test arguments
#
# The integration step starts the Certificate View simulator over HTTPS on
# 127.0.0.1, writes tests/integration/integration_config.yml into the copy from
# tests/integration/integration_config.yml.template, runs the targets under
# tests/integration/targets and stops the simulator.
# scripts/bootstrap.sh must have run first: it creates .venv and the pip
# wheel that ansible-test sanity installs offline.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
# shellcheck source=scripts/lib/simulator.sh
source "$root/scripts/lib/simulator.sh"

steps=(sanity units integration)
extra_args=()
if [[ $# -gt 0 ]]; then
    case $1 in
        sanity | units | integration)
            steps=("$1")
            shift
            extra_args=("$@")
            ;;
        *)
            echo "Unknown step '$1': use sanity, units or integration, followed by ansible-test arguments." >&2
            exit 2
            ;;
    esac
fi

if [[ ! -x "$venv/bin/ansible-test" ]]; then
    echo "Missing $venv/bin/ansible-test: run scripts/bootstrap.sh first." >&2
    exit 1
fi

# The copy lies outside this git work tree: inside it, ansible-test would ask
# git for the collection's files and find them all ignored.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/certview-ansible-test.XXXXXX")
# shellcheck disable=SC2317  # only the EXIT trap calls this function
cleanup() {
    stop_simulator
    rm -rf "$scratch"
}
trap cleanup EXIT

copy="$scratch/ansible_collections/qualys/certview"
mkdir -p "$copy"

# Outside git, ansible-test checks every file of the copy, so only project files
# are copied: in a git work tree the files that .gitignore does not exclude,
# otherwise every file but venvs, build output and caches. A local
# integration_config.yml is left out because the integration step writes its own.
list_project_files() {
    local file
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
            # Tracked files deleted from the work tree are still listed.
            if [[ -e "$root/$file" || -L "$root/$file" ]]; then
                printf '%s\0' "$file"
            fi
        done
    else
        (cd "$root" && find . \( -name '.venv*' -o -name .git -o -name build -o -name collections -o -name .ansible \
            -o -name __pycache__ -o -path ./tests/output \) -prune -o \( -type f -o -type l \) -print0)
    fi
}
list_project_files | grep -zv '^\(\./\)\?tests/integration/integration_config\.yml$' |
    tar -C "$root" --null -T - -cf - | tar -C "$copy" -xf -

export PATH="$venv/bin:$PATH"


write_integration_config() {
    sed -e "s|@GATEWAY_URL@|$simulator_url|g" -e "s|@CA_PATH@|$simulator_ca|g" \
        "$root/tests/integration/integration_config.yml.template" >"$copy/tests/integration/integration_config.yml"
}

cd "$copy"
status=0
for step in "${steps[@]}"; do
    echo "== ansible-test $step"
    started=$SECONDS
    case $step in
        sanity)
            # ansible-test 2.19 downloads get-pip from a host that may be unreachable
            # unless its cache contains a replacement, which scripts/bootstrap.sh puts there.
            if ! compgen -G "$HOME/.ansible/test/cache/get_pip_*.py" >/dev/null; then
                echo "Missing $HOME/.ansible/test/cache/get_pip_*.py: sanity may fail to install pip. Run scripts/bootstrap.sh first." >&2
            fi
            ansible-test sanity --python 3.11 --color no "${extra_args[@]}" || status=1
            ;;
        units)
            ansible-test units --python 3.11 --local --color no "${extra_args[@]}" || status=1
            ;;
        integration)
            start_simulator "$scratch/simulator"
            write_integration_config
            echo "The targets test failures on purpose: a FAILED! task followed by ...ignoring is expected."
            if ! ansible-test integration --python 3.11 --local --color no "${extra_args[@]}"; then
                status=1
                echo "Simulator log (last 40 lines):" >&2
                tail -n 40 "$scratch/simulator/simulator.log" >&2
            fi
            ;;
    esac
    echo "== ansible-test $step took $((SECONDS - started)) s"
done
exit "$status"
