#!/usr/bin/env bash
# Check the collection as Ansible Galaxy and the docs site would:
#   1. ansible-lint, production profile, offline
#   2. ansible-galaxy collection build, and the tarball's file list
#   3. install of the tarball, then ansible-doc for every module and the role
#   4. antsibull-docs lint, and the docs site built into build/docs
#   5. antsibull-changelog lint, and galaxy.yml's version against the changelog
#   6. galaxy-importer on the tarball, offline, in its own venv (.venv-importer)
#   7. ansible-builder create, when meta/execution-environment.yml exists
# Needs the venv of scripts/bootstrap.sh. Only step 6 uses the network, to
# install requirements-importer.txt from PyPI when .venv-importer is missing
# or out of date. The tarball and its installed copy go to a temporary
# directory, the docs site to build/docs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
importer_venv="$root/.venv-importer"
build="$root/build"
collection=qualys.certview
modules=(certview_order certview_order_status certview_digicert_info)
role=certificate

if [[ ! -x "$venv/bin/ansible-galaxy" ]]; then
    echo "Missing $venv/bin/ansible-galaxy: run scripts/bootstrap.sh first" >&2
    exit 1
fi
export PATH="$venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1
unset ANSIBLE_COLLECTIONS_PATH

# Two runs at once would share build/docs and .venv-importer, so a second run
# waits for the first.
mkdir -p "$build"
exec 9>"$build/.gates.lock"
if ! flock -n 9; then
    echo "Waiting for another scripts/gates.sh run to finish"
    flock 9
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/certview-gates.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
started=$SECONDS

step() {
    echo "== gates: $*"
}

# Run a command with its output in a log file, and print the log if it fails.
run_logged() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "Failed: $*" >&2
        return 1
    fi
}

step "ansible-lint --profile production --offline"
# Offline, ansible-lint does not install the collection, so it resolves
# qualys.certview.* names through this tree.
mkdir -p "$scratch/src/ansible_collections/qualys"
ln -s "$root" "$scratch/src/ansible_collections/qualys/certview"
lint_paths=(roles playbooks)
if [[ -d "$root/extensions/molecule" ]]; then
    lint_paths+=(extensions/molecule)
fi
(cd "$root" && ANSIBLE_COLLECTIONS_PATH="$scratch/src" ansible-lint --strict --nocolor -c .ansible-lint "${lint_paths[@]}")

step "ansible-galaxy collection build, and the tarball's file list"
run_logged "$scratch/build.log" ansible-galaxy collection build --output-path "$scratch/dist" "$root"
tarballs=("$scratch"/dist/qualys-certview-*.tar.gz)
tarball=${tarballs[0]}
tar -tzf "$tarball" | sed 's#/$##' | sort >"$scratch/contents.txt"
required=(plugins roles meta/runtime.yml README.md playbooks docs changelogs/changelog.yaml)
# Files that the execution environment and the docs site read from the
# installed collection must ship whenever they exist.
for optional in meta/execution-environment.yml meta/ee-requirements.yml meta/requirements.txt requirements.txt bindep.txt \
    extensions/awx/credential_type.yml docs/docsite/extra-docs.yml; do
    if [[ -e "$root/$optional" ]]; then
        required+=("$optional")
    fi
done
missing=()
for path in "${required[@]}"; do
    if ! grep -qxF "$path" "$scratch/contents.txt"; then
        missing+=("$path")
    fi
done
# Paths that must not ship: tests, tooling, caches, venvs, build output,
# simulator state (its CA, server key and certificates) and demo output.
forbidden='^(tests|scripts|build|collections|\.ci|\.ansible)(/|$)'
forbidden+='|(^|/)(\.git|\.venv[^/]*|__pycache__|\.pytest_cache|\.mypy_cache|\.tox|certview_simulator|simulator|certview-demo)(/|$)'
forbidden+='|\.(pyc|pem|key|csr|crt|tar\.gz)$|(^|/)(importer_result\.json|\.plugin-cache\.yaml)$'
mapfile -t offending < <(grep -E "$forbidden" "$scratch/contents.txt" || true)
if ((${#missing[@]} + ${#offending[@]})); then
    if ((${#missing[@]})); then
        printf 'Missing from %s: %s\n' "$(basename "$tarball")" "${missing[*]}" >&2
    fi
    if ((${#offending[@]})); then
        echo "Must not be in $(basename "$tarball") (add them to build_ignore in galaxy.yml):" >&2
        printf '  %s\n' "${offending[@]}" >&2
    fi
    exit 1
fi
echo "$(basename "$tarball"): $(wc -l <"$scratch/contents.txt") entries, every required path present, none forbidden"

step "ansible-galaxy collection install --offline, then ansible-doc on the installed copy"
installed="$scratch/installed"
installed_collection="$installed/ansible_collections/qualys/certview"
run_logged "$scratch/install.log" ansible-galaxy collection install --offline --no-deps -p "$installed" "$tarball"

# Run ansible-doc ARGS... on the installed copy and fail unless its output
# contains every EXPECTED string. ansible-doc exits 0 for a name it cannot
# find, so the expected strings are what catches a missing or empty page.
# Usage: doc_check ARGS... -- EXPECTED...
doc_check() {
    local args=() output expected
    while [[ $1 != -- ]]; do
        args+=("$1")
        shift
    done
    shift
    if ! output=$(cd "$scratch" && ANSIBLE_COLLECTIONS_PATH="$installed" ansible-doc "${args[@]}" 2>&1); then
        echo "$output" >&2
        echo "Failed: ansible-doc ${args[*]}" >&2
        return 1
    fi
    for expected in "$@"; do
        if ! grep -qF -- "$expected" <<<"$output"; then
            echo "$output" >&2
            echo "The output of ansible-doc ${args[*]} does not contain: $expected" >&2
            return 1
        fi
    done
    echo "ansible-doc ${args[*]}: $(wc -l <<<"$output") lines"
}

for module in "${modules[@]}"; do
    doc_check -t module "$collection.$module" -- \
        "> MODULE $collection.$module ($installed_collection/plugins/modules/$module.py)" \
        "OPTIONS (= indicates it is required):" "EXAMPLES:" "RETURN VALUES:"
done
doc_check -t role "$collection.$role" -- \
    "> ROLE: *$collection.$role* ($installed_collection)" "ENTRY POINT: *main*" "certificate_intermediate_ca"
list_expected=()
for module in "${modules[@]}"; do
    list_expected+=("$collection.$module ")
done
doc_check -l "$collection" -- "${list_expected[@]}"
doc_check -t role -l "$collection" -- "$collection.$role:"

step "antsibull-docs lint-collection-docs --plugin-docs"
(cd "$root" && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs --validate-collection-refs self .)
# Print the pages that extra-docs.yml lists, and fail on a page under rst/
# that it does not list, because such a page is built but linked from nowhere.
"$venv/bin/python" - "$root/docs/docsite" >"$scratch/extra-docs.txt" <<'PY'
import pathlib
import sys

import yaml

docsite = pathlib.Path(sys.argv[1])
rst_dir = docsite / "rst"
pages = {path.relative_to(rst_dir).with_suffix("").as_posix() for path in rst_dir.rglob("*.rst")}
index_path = docsite / "extra-docs.yml"
index = yaml.safe_load(index_path.read_text(encoding="utf-8")) if index_path.is_file() else None
listed = []
for section in (index or {}).get("sections") or []:
    for entry in section.get("toctree") or []:
        ref = entry if isinstance(entry, str) else entry.get("ref", "")
        listed.append(ref.removesuffix(".rst"))
unlisted = sorted(pages - set(listed))
if unlisted:
    sys.exit("Pages missing from %s: %s. Add each one to a toctree there." % (index_path, ", ".join(unlisted)))
print("\n".join(listed))
PY

step "antsibull-docs collection and sphinx-build into build/docs"
docs="$build/docs"
rm -rf "$docs"
mkdir -p "$docs/rst"
run_logged "$scratch/antsibull-docs.log" \
    env ANSIBLE_COLLECTIONS_PATH="$installed" antsibull-docs collection --use-current --dest-dir "$docs/rst" "$collection"
# A small Sphinx configuration with antsibull-docs' own extension, so that the
# site builds without the Ansible docsite theme and without the network.
mkdir -p "$scratch/sphinx"
cat >"$scratch/sphinx/conf.py" <<'PY'
project = "qualys.certview"
extensions = ["sphinx_antsibull_ext"]
html_theme = "alabaster"
root_doc = "collections/index"
PY
run_logged "$scratch/sphinx.log" \
    sphinx-build -q -b html -c "$scratch/sphinx" -w "$scratch/sphinx-warnings.log" "$docs/rst" "$docs/html"
# The generated pages link labels of the Ansible docsite (such as
# common_return_values), which only an intersphinx lookup over the network
# resolves. Any other warning fails, and so does an undefined label of this
# collection.
warnings=$(grep -v "WARNING: undefined label: '" "$scratch/sphinx-warnings.log" || true)
warnings+=$(grep "WARNING: undefined label: 'ansible_collections\.qualys\.certview\." "$scratch/sphinx-warnings.log" || true)
if [[ -n "$warnings" ]]; then
    echo "$warnings" >&2
    echo "sphinx-build reported the warnings above" >&2
    exit 1
fi
pages=(index "${modules[@]/%/_module}" "${role}_role")
while IFS= read -r page; do
    pages+=("docsite/$page")
done <"$scratch/extra-docs.txt"
missing=()
for page in "${pages[@]}"; do
    for file in "rst/collections/qualys/certview/$page.rst" "html/collections/qualys/certview/$page.html"; do
        if [[ ! -s "$docs/$file" ]]; then
            missing+=("$file")
        fi
    done
done
if ((${#missing[@]})); then
    printf 'Missing from %s: %s\n' "$docs" "${missing[*]}" >&2
    exit 1
fi
echo "$docs: ${#pages[@]} pages in rst/ and html/"

step "antsibull-changelog lint, and galaxy.yml's version against changelogs/changelog.yaml"
(cd "$root" && antsibull-changelog lint && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml)
# CHANGELOG.md must be what antsibull-changelog generates from changelog.yaml.
mkdir -p "$scratch/changelog"
cp -r "$root/galaxy.yml" "$root/changelogs" "$root/CHANGELOG.md" "$scratch/changelog/"
(cd "$scratch/changelog" && run_logged "$scratch/changelog.log" antsibull-changelog generate)
if ! diff -u "$root/CHANGELOG.md" "$scratch/changelog/CHANGELOG.md"; then
    echo "CHANGELOG.md is out of date: run antsibull-changelog generate" >&2
    exit 1
fi
"$venv/bin/python" - "$root" <<'PY'
import pathlib
import sys

import semantic_version
import yaml

root = pathlib.Path(sys.argv[1])
version_text = str(yaml.safe_load((root / "galaxy.yml").read_text(encoding="utf-8"))["version"])
if not semantic_version.validate(version_text):
    sys.exit("galaxy.yml: version %r is not a semantic version (MAJOR.MINOR.PATCH)" % version_text)
version = semantic_version.Version(version_text)
changelog = yaml.safe_load((root / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))
releases = sorted(semantic_version.Version(str(name)) for name in (changelog.get("releases") or {}))
fragments = sorted(path.name for path in (root / "changelogs" / "fragments").glob("*.y*ml"))
latest = releases[-1] if releases else None
if version == latest:
    print("galaxy.yml version %s is the latest release in changelogs/changelog.yaml" % version)
elif (latest is None or version > latest) and fragments:
    print("galaxy.yml version %s is unreleased; %d fragment(s) wait for it" % (version, len(fragments)))
elif latest is None or version > latest:
    sys.exit("galaxy.yml version %s is not released and changelogs/fragments/ is empty: add a fragment" % version)
else:
    sys.exit("galaxy.yml version %s is older than the latest release %s in changelogs/changelog.yaml" % (version, latest))
PY

step "galaxy-importer on $(basename "$tarball") (offline, without ansible-test)"
# shellcheck source=scripts/lib/venv.sh
source "$root/scripts/lib/venv.sh"
ensure_venv "$importer_venv" "$root/requirements-importer.txt"
cat >"$scratch/galaxy-importer.cfg" <<'INI'
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
INI
# galaxy-importer sets ANSIBLE_COLLECTIONS_PATH for its ansible-lint run to the
# unpacked tarball alone. The role's community.crypto tasks resolve through
# this folder on PYTHONPATH instead, which ansible-core also searches.
purelib=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
crypto="$purelib/ansible_collections/community/crypto"
if [[ ! -d "$crypto" ]]; then
    echo "Missing $crypto: galaxy.yml depends on community.crypto, which the ansible package in .venv provides" >&2
    exit 1
fi
mkdir -p "$scratch/importer-deps/ansible_collections/community" "$scratch/importer"
ln -s "$crypto" "$scratch/importer-deps/ansible_collections/community/crypto"
importer_status=0
(cd "$scratch/importer" &&
    PATH="$importer_venv/bin:$PATH" PYTHONPATH="$scratch/importer-deps" GALAXY_IMPORTER_CONFIG="$scratch/galaxy-importer.cfg" \
        "$importer_venv/bin/python" -m galaxy_importer.main "$tarball") >"$scratch/importer.log" 2>&1 || importer_status=$?
cat "$scratch/importer.log"
# galaxy-importer logs ansible-lint findings as WARNING lines and still exits
# 0, so those fail the gate as well.
if ((importer_status)) || grep -Eq '^(ERROR|WARNING)|Traceback' "$scratch/importer.log" ||
    ! grep -qx 'Importer processing completed successfully' "$scratch/importer.log"; then
    echo "galaxy-importer failed (exit code $importer_status) or reported the ERROR or WARNING lines above" >&2
    exit 1
fi

if [[ -f "$root/meta/execution-environment.yml" ]]; then
    step "ansible-builder create -f meta/execution-environment.yml"
    (cd "$root" && run_logged "$scratch/ansible-builder.log" ansible-builder create -f meta/execution-environment.yml \
        -c "$scratch/ee" --output-filename Containerfile)
    if [[ ! -s "$scratch/ee/Containerfile" ]]; then
        cat "$scratch/ansible-builder.log" >&2
        echo "ansible-builder create wrote no Containerfile" >&2
        exit 1
    fi
    echo "ansible-builder create: $(wc -l <"$scratch/ee/Containerfile") lines of Containerfile"
fi

echo "== gates: all passed in $((SECONDS - started)) s"
