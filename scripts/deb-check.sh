#!/usr/bin/env bash
# scripts/deb-check.sh <deploy-receiver_*.deb>
#
# Installs the package on this machine (root; refuses if deploy-receiver is
# already installed or its user exists), checks what it installed, runs
# `deploy-receiver --check` on the installed example config as the service
# would, verifies the unit, then removes and purges it and checks that
# nothing is left. Used by scripts/test.sh under CI.
#
# No systemd runs here (no PID 1), so the two things systemd would do for
# `--check` are done by hand, exactly as the unit says: LoadCredential= (the
# secret copied to /run/credentials/deploy-receiver.service/, readable only
# by the service user) and User= (the check runs as `deploy-receiver`, no
# supplementary groups, no new privileges). The admin's part — the secret
# file and, when the example uses TLS, a certificate whose key the service's
# group may read — is done as the unit's comment tells an admin to do it.
set -euo pipefail

deb="${1:?usage: scripts/deb-check.sh <deploy-receiver_*.deb>}"
pkg=deploy-receiver
user=deploy-receiver
unit=/usr/lib/systemd/system/deploy-receiver.service
config=/etc/deploy-receiver/receiver.toml
creds=/run/credentials/deploy-receiver.service

fail() { echo "error: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || fail "installing a .deb needs root; run as root (CI does)"
for tool in dpkg file systemd-analyze python3 openssl setpriv getent; do
  command -v "$tool" >/dev/null || fail "\`$tool\` is not installed"
done
[ -f "$deb" ] || fail "\`$deb\` is not a file; hint: scripts/deb.sh x86_64-unknown-linux-gnu"
if dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qv '^not-installed$'; then
  fail "$pkg is already on this machine; hint: dpkg --purge $pkg (this check installs and purges it)"
fi
getent passwd "$user" >/dev/null && fail "user \`$user\` exists before the install; remove it first"

# Admin and "systemd" files this check makes; gone again however it ends.
admin_files=()
cleanup() {
  rm -rf "$creds" "${admin_files[@]}"
  rmdir /run/credentials 2>/dev/null || true
  if dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qv '^not-installed$'; then
    dpkg --purge "$pkg" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

echo "== dpkg -i $(basename "$deb")"
dpkg -i "$deb"
# A second install (same version) runs postinst again with the user present.
dpkg -i "$deb" >/dev/null

[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg")" = "ii " ] || fail "$pkg is not installed cleanly"
[ -x /usr/bin/deploy-receiver ] || fail "/usr/bin/deploy-receiver is missing"
file -b /usr/bin/deploy-receiver | grep -q 'statically linked\|static-pie linked' || fail "/usr/bin/deploy-receiver is not static"
version=$(/usr/bin/deploy-receiver --version)
[ "$version" = "deploy-receiver $(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//')" ] ||
  fail "\`deploy-receiver --version\` says \`$version\`, not the package's version"
[ -f "$unit" ] || fail "$unit is missing"
[ -f /usr/share/doc/$pkg/README.md ] || fail "the README is not in /usr/share/doc/$pkg"
dpkg-query -W -f='${Conffiles}\n' "$pkg" | grep -q "^ $config " || fail "$config is not a conffile"
shell=$(getent passwd "$user" | cut -d: -f7)
uid=$(id -u "$user")
[ "$uid" -lt 1000 ] || fail "user \`$user\` is not a system user (uid $uid)"
case "$shell" in */nologin | */false) ;; *) fail "user \`$user\` has a login shell \`$shell\`" ;; esac
getent group "$user" >/dev/null || fail "group \`$user\` is missing"
[ -z "$(find /etc/systemd/system -name 'deploy-receiver.service' 2>/dev/null)" ] ||
  fail "the unit is enabled on install; it must wait for the secret and config"
ok "installed: binary, unit, README, conffile $config, system user $user (uid $uid, $shell), unit not enabled"

echo "== systemd-analyze verify $unit"
# verify exits 0 on warnings; any output is a problem (a missing
# executable, an unknown directive, a required unit that is not there).
verify_out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify failed: $verify_out"
[ -z "$verify_out" ] || fail "systemd-analyze verify warned: $verify_out"
ok "verify: no warnings"
grep -q '^Requires=.*docker' "$unit" && fail "the unit requires docker; it must only want it"
# --threshold is in tenths: 20 is an exposure of 2.0.
security=$(systemd-analyze security --offline=yes --threshold=20 "$unit" 2>&1) ||
  fail "the unit's exposure is over 2.0: $(tail -n 1 <<<"$security")"
ok "security: $(tail -n 1 <<<"$security" | sed 's/^→ //')"

echo "== deploy-receiver --check --config $config (as the service runs it)"
# What the installed example and the installed unit say.
read -r secret_file tls_cert tls_key < <(python3 - "$config" <<'EOF'
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
print(c.get("secret_file", "-"), c.get("tls_cert", "-"), c.get("tls_key", "-"))
EOF
)
cred=$(sed -n 's/^LoadCredential=\([^:]*\):\(.*\)$/\1 \2/p' "$unit")
read -r cred_name cred_source <<<"$cred"
[ -n "$cred_name" ] || fail "$unit has no LoadCredential= for the secret"
[ "$secret_file" = "$creds/$cred_name" ] ||
  fail "$config reads the secret from \`$secret_file\`, but the unit passes it as \`$creds/$cred_name\` (LoadCredential=$cred_name:$cred_source)"

# The admin: the secret, root-only.
admin_files+=("$cred_source")
(umask 077 && openssl rand -hex 32 >"$cred_source")
# The admin, when the example serves TLS itself: a certificate, and a key
# the service's group may read.
if [ "$tls_cert" != - ]; then
  admin_files+=("$tls_cert" "$tls_key" "$(dirname "$tls_cert")")
  mkdir -p "$(dirname "$tls_cert")" "$(dirname "$tls_key")"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -keyout "$tls_key" -out "$tls_cert" 2>/dev/null
  chgrp "$user" "$tls_key" && chmod 0640 "$tls_key"
fi
# systemd's LoadCredential=: a private copy only the service user can read.
install -d -m 0500 -o "$user" -g "$user" "$creds"
install -m 0400 -o "$user" -g "$user" "$cred_source" "$creds/$cred_name"

# The unit's StateDirectory= as systemd sets it up: owned by the service.
install -d -m 0700 -o "$user" -g "$user" /var/lib/deploy-receiver
as_service() {
  setpriv --reuid="$user" --regid="$user" --clear-groups --no-new-privs \
    env -i PATH=/usr/bin:/bin STATE_DIRECTORY=/var/lib/deploy-receiver "$@"
}
check_out=$(as_service /usr/bin/deploy-receiver --check --config "$config" 2>&1) ||
  fail "deploy-receiver --check failed on the installed example: $check_out"
grep -q "is valid; it would listen on" <<<"$check_out" || fail "unexpected --check output: $check_out"
secret=$(cat "$cred_source")
grep -qF "$secret" <<<"$check_out" && fail "--check printed the secret"
ok "$check_out"
# Without its credential the same check must fail: it really read it.
rm -f "$creds/$cred_name"
if no_secret=$(as_service /usr/bin/deploy-receiver --check --config "$config" 2>&1); then
  fail "--check passed without the credential: $no_secret"
fi
ok "without the credential: $(head -n 1 <<<"$no_secret")"
rm -rf "$creds" "${admin_files[@]}"
rmdir /run/credentials 2>/dev/null || true
admin_files=()

echo "== dpkg -r, then dpkg --purge"
# What the running service would have left in its StateDirectory=: the
# remembered delivery ids. A purge removes them.
echo '{}' >/var/lib/deploy-receiver/delivery-ids.json
dpkg -r "$pkg" >/dev/null
[ ! -e /usr/bin/deploy-receiver ] || fail "dpkg -r left /usr/bin/deploy-receiver"
[ -f "$config" ] || fail "dpkg -r removed the conffile (only a purge should)"
dpkg --purge "$pkg" >/dev/null
left=()
for path in /usr/bin/deploy-receiver "$unit" /etc/deploy-receiver /usr/share/doc/$pkg /var/lib/deploy-receiver \
  /etc/systemd/system/deploy-receiver.service \
  /var/lib/systemd/deb-systemd-helper-enabled/deploy-receiver.service.dsh-also \
  /var/lib/systemd/deb-systemd-helper-masked/deploy-receiver.service; do
  [ -e "$path" ] || [ -L "$path" ] && left+=("$path")
done
getent passwd "$user" >/dev/null && left+=("user $user")
getent group "$user" >/dev/null && left+=("group $user")
dpkg-query -W "$pkg" >/dev/null 2>&1 && left+=("dpkg's record of $pkg")
[ ${#left[@]} = 0 ] || fail "the purge left: ${left[*]}"
ok "purged: no binary, unit, config, docs, mask, user or group left"
