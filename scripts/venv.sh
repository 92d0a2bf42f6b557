# Sourced by scripts/py-tests.sh and scripts/demo.sh (bash). `venv DIR REQUIREMENTS` (re)creates the
# venv DIR from the pinned requirements file unless DIR was made from this very file (a sha256
# stamp inside it). PYTHON (default python3, 3.10+) creates it.
venv() {
  local dir="$1" req="$2" stamp="$1/.requirements.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> creating $dir from $req" >&2
    rm -rf "$dir"
    "${PYTHON:-python3}" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
  fi
}
