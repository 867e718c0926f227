# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib-chainlint.sh - the chain lint that test-lib.sh runs on every test body
# before it runs it, in the manner of git's t/chainlint.  A check whose
# status is thrown away by a ";" or a newline cannot fail the test, so every
# command of a list must be joined to the next by "&&" (or "||", "|", "&").
# Accepted without "&&": a command that ends in "return", "exit", "break" or
# "continue" (as in "|| return 1"), test_when_finished, a lone command (no
# "&&", "||" or "|") before one that reads "$?", and every command before a
# "false", "return" or "exit"
# that closes the same list (an error branch).  A loop body must handle
# failure itself ("|| return 1"), or only its last pass would count.
# Here-docs, quotes, comments, $(...) and the keywords of if, for, while and
# case are understood: bash parses the body and prints it back (declare -f),
# and a small awk parser reads that canonical form.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "1..0 # SKIP ${0##*/} is a test library, not a test"
	exit 0
fi

# test_chainlint_ BODY: print the body with ?!AMP?! where a command's status
# is lost and ?!LOOP?! where a loop ignores a failing pass, and fail; or
# succeed quietly.
test_chainlint_() {
	local fn
	# A sub-shell: defining the function must not touch the test's shell.
	fn=$(eval "test_chainlint_fn_ () {
$1
}" && declare -f test_chainlint_fn_) || {
		echo "chain lint: the test body does not parse"
		return 1
	}
	printf '%s\n' "$fn" | awk "$TEST_CHAINLINT_AWK"
}

# The parser follows bash's printed form: one command a line, ";" at the end
# of every command but the last of a list, keywords ("then", "do", "}") at
# the end or start of a line, here-doc bodies unindented after their line.
# shellcheck disable=SC2016
TEST_CHAINLINT_AWK='
function ch(k) { return substr(S, p + k, 1) }
function take(  c) {
	c = substr(S, p, 1)
	p++
	if (c == "\n")
		ln++
	return c
}
function scan_sq(  c) {
	while (p <= n && take() != "\047")
		;
}
function scan_ansi(  c) {
	while (p <= n) {
		c = take()
		if (c == "\\")
			take()
		else if (c == "\047")
			return
	}
}
function scan_bq(  c) {
	while (p <= n) {
		c = take()
		if (c == "\\")
			take()
		else if (c == "`")
			return
	}
}
function scan_dq(  c) {
	while (p <= n) {
		c = take()
		if (c == "\\")
			take()
		else if (c == "\"")
			return
		else if (c == "$")
			scan_dollar(1)
		else if (c == "`")
			scan_bq()
	}
}
# Code inside $(...), <(...) or $((...)): skipped whole, quotes respected.
function scan_paren(depth,  c) {
	while (p <= n && depth > 0) {
		c = take()
		if (c == "\\")
			take()
		else if (c == "\047")
			scan_sq()
		else if (c == "\"")
			scan_dq()
		else if (c == "`")
			scan_bq()
		else if (c == "(")
			depth++
		else if (c == ")")
			depth--
	}
}
function scan_brace(  c, depth) {
	depth = 1
	while (p <= n && depth > 0) {
		c = take()
		if (c == "\\")
			take()
		else if (c == "\047")
			scan_sq()
		else if (c == "\"")
			scan_dq()
		else if (c == "$" && ch(0) == "{") {
			take()
			depth++
		} else if (c == "}")
			depth--
	}
}
# After a "$": the expansion that follows it, if any ($'...' and $"..."
# only outside double quotes).
function scan_dollar(in_dq) {
	if (ch(0) == "(") {
		take()
		scan_paren(1)
	} else if (ch(0) == "{") {
		take()
		scan_brace()
	} else if (in_dq) {
		return
	} else if (ch(0) == "\047") {
		take()
		scan_ansi()
	} else if (ch(0) == "\"") {
		take()
		scan_dq()
	}
}
function scan_word(  start, c) {
	start = p
	while (p <= n) {
		c = ch(0)
		if (c == " " || c == "\t" || c == "\n")
			break
		if (index(";&|<>()", c)) {
			# a=(x y): an array, not a sub-shell
			if (c == "(" && p > start && substr(S, p - 1, 1) == "=") {
				take()
				scan_paren(1)
				continue
			}
			break
		}
		take()
		if (c == "\\")
			take()
		else if (c == "\047")
			scan_sq()
		else if (c == "\"")
			scan_dq()
		else if (c == "`")
			scan_bq()
		else if (c == "$")
			scan_dollar(0)
	}
	return substr(S, start, p - start)
}
function add(type, text, line) {
	# bash prints "&&" after a here-doc on the line after its end
	if (type == "O" && (text == "&&" || text == "||" || text == "|" ||
			    text == "|&") && ntok > 0 && TT[ntok] == "NL")
		ntok--
	ntok++
	TT[ntok] = type
	TV[ntok] = text
	TL[ntok] = line
}
function unquote(w) {
	gsub(/[\047"\\]/, "", w)
	return w
}
function heredocs(  i, e, line) {
	for (i = 1; i <= nhd; i++) {
		while (p <= n) {
			e = index(substr(S, p), "\n")
			if (e == 0)
				e = n - p + 2
			line = substr(S, p, e - 1)
			p += e
			ln++
			if (hdash[i])
				sub(/^\t+/, "", line)
			if (line == hd[i])
				break
		}
	}
	nhd = 0
}
function tokenize(  c, tl, op, start, w) {
	ntok = 0
	p = 1
	ln = 1
	nhd = 0
	want_tag = 0
	while (p <= n) {
		c = ch(0)
		if (c == " " || c == "\t") {
			p++
			continue
		}
		if (c == "\\" && ch(1) == "\n") {
			take()
			take()
			continue
		}
		tl = ln
		if (c == "\n") {
			take()
			add("NL", "\n", tl)
			heredocs()
			continue
		}
		if (c == "#") {
			while (p <= n && ch(0) != "\n")
				p++
			continue
		}
		start = p
		if ((c == "(" && ch(1) == "(") ||
		    ((c == "<" || c == ">") && ch(1) == "(")) {
			take()
			take()
			scan_paren(c == "(" ? 2 : 1)
			add("W", substr(S, start, p - start), tl)
			continue
		}
		op = ""
		if (index(";&|<>()", c)) {
			op = substr(S, p, 3)
			if (op != ";;&" && op != "<<<" && op != "<<-" && op != "&>>") {
				op = substr(S, p, 2)
				if (op !~ /^(&&|\|\||;;|;&|\|&|<<|>>|<&|>&|<>|>\||&>)$/)
					op = c
			}
			p += length(op)
			add("O", op, tl)
			if (op == "<<")
				want_tag = 1
			else if (op == "<<-")
				want_tag = 2
			continue
		}
		w = scan_word()
		add("W", w, tl)
		if (want_tag) {
			nhd++
			hd[nhd] = unquote(w)
			hdash[nhd] = want_tag == 2
			want_tag = 0
		}
	}
}

function is_w(v) { return ti <= ntok && TT[ti] == "W" && TV[ti] == v }
function is_o(v) { return ti <= ntok && TT[ti] == "O" && TV[ti] == v }
function skip_nl() {
	while (ti <= ntok && TT[ti] == "NL")
		ti++
}
function is_stop(stop) {
	if (ti > ntok)
		return 1
	if (TT[ti] == "NL")
		return 0
	return index(stop, " " TV[ti] " ") > 0
}
function is_redir(v) {
	return v ~ /^(<|>|>>|<<|<<-|<<<|<&|>&|<>|>\||&>|&>>)$/
}
function problem(kind, tok, list) {
	np++
	PK[np] = kind
	PT[np] = tok
	PLIST[np] = list
}
function expect(v) {
	if (ti <= ntok && TV[ti] == v) {
		ti++
		return
	}
	problem("PARSE", ti <= ntok ? ti : ntok, 0)
}
function consume_word(  v) {
	v = TV[ti]
	if (index(v, "$?")) {
		cmd_dq = 1
		nfail++
	}
	if (v == "return" || v == "exit" || v == "break" || v == "continue")
		nfail++
	ti++
}
function redirs() {
	while (ti <= ntok && TT[ti] == "O" && is_redir(TV[ti])) {
		ti++
		if (ti <= ntok && TT[ti] == "W")
			consume_word()
	}
}
function loop_body(  mark) {
	mark = nfail
	parse_list(" done ")
	if (nfail == mark)
		problem("LOOP", ti <= ntok ? ti : ntok, 0)
	expect("done")
	redirs()
}
function parse_command(  v, s) {
	c_safe = 0
	if (ti > ntok)
		return
	v = TV[ti]
	if (TT[ti] == "O" && v == "(") {
		ti++
		parse_list(" ) ")
		s = list_safe
		expect(")")
		redirs()
		c_safe = s
		return
	}
	if (TT[ti] == "W") {
		if (v == "{") {
			ti++
			parse_list(" } ")
			s = list_safe
			expect("}")
			redirs()
			c_safe = s
			return
		}
		if (v == "if") {
			ti++
			while (1) {
				parse_list(" then ")
				expect("then")
				parse_list(" elif else fi ")
				if (!is_w("elif"))
					break
				ti++
			}
			if (is_w("else")) {
				ti++
				parse_list(" fi ")
			}
			expect("fi")
			redirs()
			return
		}
		if (v == "while" || v == "until") {
			ti++
			parse_list(" do ")
			expect("do")
			loop_body()
			return
		}
		if (v == "for" || v == "select") {
			ti++
			while (ti <= ntok && !is_w("do"))
				ti++
			expect("do")
			loop_body()
			return
		}
		if (v == "case") {
			ti += 2
			skip_nl()
			expect("in")
			skip_nl()
			while (ti <= ntok && !is_w("esac")) {
				while (ti <= ntok && !is_o(")"))
					ti++
				ti++
				parse_list(" ;; ;& ;;& esac ")
				if (is_o(";;") || is_o(";&") || is_o(";;&"))
					ti++
				skip_nl()
			}
			expect("esac")
			redirs()
			return
		}
		if (v == "function") {
			ti += 2
			if (is_o("(")) {
				ti++
				expect(")")
			}
			skip_nl()
			parse_command()
			c_safe = 0
			return
		}
		if (v == "[[") {
			while (ti <= ntok && !is_w("]]"))
				ti++
			ti++
			redirs()
			return
		}
	}
	while (ti <= ntok && TT[ti] != "NL") {
		if (TT[ti] == "O") {
			if (!is_redir(TV[ti]))
				break
			ti++
			if (ti <= ntok && TT[ti] == "W")
				consume_word()
			continue
		}
		consume_word()
	}
	c_safe = v == "return" || v == "exit" || v == "break" || v == "continue"
}
# pl_n, ao_n: how many commands the pipeline, and the and-or list, had.
function parse_pipeline(  n) {
	if (is_w("!") || is_w("time"))
		ti++
	parse_command()
	n = 1
	while (is_o("|") || is_o("|&")) {
		ti++
		skip_nl()
		parse_command()
		n++
	}
	pl_safe = c_safe
	pl_n = n
}
function parse_and_or(  n) {
	parse_pipeline()
	n = pl_n
	while (is_o("&&") || is_o("||")) {
		ti++
		skip_nl()
		parse_pipeline()
		n += pl_n
	}
	ao_safe = pl_safe
	ao_n = n
}
# A list of commands up to one of the words or operators in STOP.
function parse_list(stop,  id, have, psafe, psep, pend, first, start, sep,
		    saved_dq, any_dq, this_dq, k, last_safe, pone) {
	id = ++nlists
	saved_dq = cmd_dq
	any_dq = 0
	have = 0
	last_safe = 0
	while (1) {
		while (ti <= ntok && (TT[ti] == "NL" || is_o(";")))
			ti++
		if (is_stop(stop))
			break
		start = ti
		first = TV[ti]
		cmd_dq = 0
		parse_and_or()
		this_dq = cmd_dq
		any_dq = any_dq || this_dq
		if (ti == start) {
			ti++
			continue
		}
		sep = ""
		if (is_o(";") || is_o("&")) {
			sep = TV[ti]
			ti++
		}
		# "$?" tells the status of one command only: after "a && b"
		# or "a | b" it cannot tell which failed, and hides a failure
		# of a when b did not run ("a && b; test $? -le 1").
		if (have && psep != "&" && !psafe && !(this_dq && pone)) {
			if (first == "false" || first == "return" || first == "exit") {
				for (k = 1; k <= np; k++)
					if (PK[k] == "AMP" && PLIST[k] == id)
						PK[k] = ""
			} else {
				problem("AMP", pend, id)
			}
		}
		have = 1
		psafe = ao_safe || first == "test_when_finished"
		pone = ao_n == 1
		psep = sep
		pend = start
		# the last token of the command, for the mark
		pend = ti - 1
		while (pend > start && (TT[pend] == "NL" || TV[pend] == ";" ||
					TV[pend] == "&"))
			pend--
		last_safe = ao_safe || first == "false"
	}
	cmd_dq = saved_dq || any_dq
	list_safe = last_safe
}

{ line[NR] = $0 }
END {
	# declare -f prints "name () ", "{ ", the body, and "}"
	S = ""
	for (i = 3; i < NR; i++)
		S = S line[i] "\n"
	n = length(S)
	tokenize()
	ti = 1
	np = 0
	nlists = 0
	nfail = 0
	cmd_dq = 0
	parse_list("")
	bad = 0
	for (k = 1; k <= np; k++) {
		if (PK[k] == "")
			continue
		bad++
		marks[TL[PT[k]]] = marks[TL[PT[k]]] " ?!" PK[k] "?!"
	}
	if (!bad)
		exit 0
	print "chain lint: ?!AMP?! marks a command whose status is lost (join it to the next with &&),"
	print "?!LOOP?! a loop whose failing passes are lost (end its body with || return 1):"
	for (i = 3; i < NR; i++)
		print line[i] marks[i - 2]
	exit 1
}
'
