#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t4210-ctl-access-every-method.sh - access control, method by method.  The
# list of methods is not written here: it is read from the server's own
# interface descriptions (io.iomapfs.Cache and org.varlink.service), and
# the read-only set from the "Access:" comment of io.iomapfs.Cache, so a
# method added later is covered (or this test fails until it is given
# valid parameters below).  A stranger (neither root nor the owner) gets
# PermissionDenied for every method, with and without "more" and with bad
# parameters; a ctl_group member gets every read-only method answered and
# PermissionDenied for every other one.  The number of denied accesses is
# printed as a TAP diagnostic.  t4120 covers the socket's location, modes
# and planted files.
test_description='control socket: access, for every method'
. "$(dirname "$0")/test-lib.sh"
. "$T_DIR/lib-ctl.sh"

ctl_access_setup

FIRST=$T_DIR/abuse/sockabuse.py

# first_as USER METHOD [PARAMS] [--more]: the first reply to one call.
first_as() {
	local u=$1
	shift
	ctl_as "$u" $PY "$FIRST" "$S" first "$@"
}

# Valid parameters of each method (ino 12 is /f of make_ctl_image).
declare -A PARAMS=(
	[io.iomapfs.Cache.GetStatus]='{}'
	[io.iomapfs.Cache.GetStats]='{"ino":12}'
	[io.iomapfs.Cache.ResetStats]='{}'
	[io.iomapfs.Cache.Dump]='{"ino":12}'
	[io.iomapfs.Cache.Map]='{"ino":12}'
	[io.iomapfs.Cache.Audit]='{}'
	[io.iomapfs.Cache.Watch]='{"count":1}'
	[io.iomapfs.Cache.Flush]='{"ino":12}'
	[io.iomapfs.Cache.SetCaching]='{"enabled":true}'
	[io.iomapfs.Cache.GetLimits]='{}'
	[io.iomapfs.Cache.GetJournal]='{}'
	[io.iomapfs.Cache.SetLimits]='{}'
	[io.iomapfs.Cache.SetReadOnly]='{"readonly":true}'
	[org.varlink.service.GetInfo]='{}'
	[org.varlink.service.GetInterfaceDescription]='{"interface":"io.iomapfs.Cache"}'
)

chmod 711 "$TRASH"
PUB=$TRASH/pub
mkdir -m 1777 "$PUB"
S=$PUB/ctl.sock
: >"$TRASH/notes"

test_expect_success 'the server, with a read-only group, and its list of methods' '
	make_ctl_image "$PUB/img" && chmod 644 "$PUB/img" &&
	ctl_server_start "$PUB/img" /mnt/t4210 -s "$S" -g $G &&
	chmod 666 "$S" &&
	ctl_cmd lookup 12 0 &&
	for i in io.iomapfs.Cache org.varlink.service; do
		vl_call "$S" org.varlink.service.GetInterfaceDescription \
			"{\"interface\":\"$i\"}" >desc.json &&
		expect_ok desc.json &&
		jq -r .parameters.description desc.json >desc.txt &&
		sed -n "s/^method \\([A-Za-z]*\\)(.*/$i.\\1/p" desc.txt || return 1
	done >methods &&
	cat methods &&
	test "$(wc -l <methods)" -ge 13 &&
	vl_call "$S" org.varlink.service.GetInterfaceDescription \
		"{\"interface\":\"io.iomapfs.Cache\"}" >desc.json &&
	jq -r .parameters.description desc.json |
		awk "/^# Access:/ { on = 1 } on { print } /Everyone/ { exit }" |
		sed "s/Everyone.*//" | tr -d "#,." | tr " " "\n" |
		sed -n "/^[A-Z][A-Za-z]*$/p" >ro.names &&
	cat ro.names &&
	while read -r m; do
		case $m in
		org.varlink.service.*) echo ro ;;
		*) grep -qx "${m##*.}" ro.names && echo ro || echo admin ;;
		esac | sed "s/^/$m /" || return 1
	done <methods >classes &&
	cat classes &&
	grep -q "GetStatus ro" classes && grep -q "Flush admin" classes &&
	while read -r m c; do
		test -n "${PARAMS[$m]:-}" || {
			echo "method $m has no valid parameters in this test"
			return 1
		}
	done <classes
'

test_expect_success 'a stranger is denied every method, every way' '
	n=0 &&
	while read -r m c; do
		for how in "${PARAMS[$m]}" "${PARAMS[$m]} --more" \
			"{\"bogus\":[1]}" ""; do
			first_as $U1 $m $how >out &&
			expect_error org.varlink.service.PermissionDenied out &&
			n=$((n + 1)) || { echo "method $m, call: $how"; return 1; }
		done
	done <classes &&
	echo "stranger $n" >>"$TRASH/notes" &&
	test "$n" -eq $((4 * $(wc -l <classes)))
'

test_expect_success 'the ctl_group member: read-only methods answered, the rest denied' '
	n=0 && ok=0 &&
	while read -r m c; do
		good=0 &&
		for how in "${PARAMS[$m]}" "${PARAMS[$m]} --more"; do
			first_as $U2 $m $how >out || return 1
			if [ $c = admin ]; then
				expect_error org.varlink.service.PermissionDenied out ||
					{ echo "method $m $how"; return 1; }
				n=$((n + 1))
			elif [ "$(vl_error out)" = org.varlink.service.PermissionDenied ]; then
				echo "read-only method $m $how was denied"
				return 1
			elif expect_ok out >/dev/null; then
				# (ExpectedMore and the like are answers too, but
				# each read-only method must work one way.)
				good=1
			fi
		done &&
		if [ $c = ro ]; then
			test $good = 1 || { echo "$m never answered"; return 1; }
			ok=$((ok + 1))
		fi
	done <classes &&
	echo "group-member $n denied, $ok read-only methods answered" >>"$TRASH/notes" &&
	test "$n" -eq $((2 * $(grep -c " admin$" classes))) &&
	test "$ok" -eq "$(grep -c " ro$" classes)" &&
	vl_call "$S" GetStats >out && expect_ok out &&
	test_eq true "$(jq .parameters.stats.enabled out)"
'

test_expect_success 'the server still serves root' '
	vl_call "$S" GetStatus >out && expect_ok out &&
	test_eq admin "$(jq -r .parameters.access out)" &&
	ctl_server_stop
'

st=$(sed -n "s/^stranger //p" "$TRASH/notes")
gm=$(sed -n "s/^group-member //p" "$TRASH/notes")
say "denied accesses: stranger ${st:-?}, ctl_group member ${gm:-?}"
test_done
