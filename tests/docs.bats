#!/usr/bin/env bats
# docs.bats: the options --help prints are the options the man page, the
# three shell completions and the README document, and the documents
# themselves are well formed.

load test_helper/common

# Top level rather than setup(), so that a setup() from common stays in force.
ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${CULVERT:=$ROOT/culvert}"
MAN=$ROOT/man/culvert.1
BASHCOMP=$ROOT/completions/culvert.bash
ZSHCOMP=$ROOT/completions/_culvert
FISHCOMP=$ROOT/completions/culvert.fish
README=$ROOT/README.md

# The --help texts of culvert and culvert serve, stdout and stderr together.
help_text() {
	"$CULVERT" --help 2>&1
	"$CULVERT" serve --help 2>&1
}

# Long option names (without dashes) anywhere in --help, one per line.
help_long_opts() {
	help_text | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sed 's/^--//' | sort -u
}

# Short option letters from the option lines of --help (lines that start
# with a dash after indentation), one per line.  A short option is a dash
# and one character standing alone between blanks or commas.
help_short_opts() {
	help_text | grep -E '^[[:space:]]*-' |
	    grep -oP '(?<![^\s,])-[A-Za-z0-9](?![^\s,])' | sed 's/^-//' | sort -u
}

# Long option names the man page marks up with Fl (".Fl -name" or
# ".Fl \-name"), one per line.
man_long_opts() {
	grep -oP 'Fl \\?-\K[a-z0-9][a-z0-9-]*' "$MAN" | sort -u
}

# in_file FILE ERE: does FILE (comment lines aside) match ERE?
in_file() {
	grep -v '^[[:space:]]*#[^!c]' "$1" | grep -qE -- "$2"
}

# Boundaries around an option: not part of a longer option name.
B='(^|[^A-Za-z0-9-])'
E='([^A-Za-z0-9-]|$)'

@test "culvert --help succeeds and lists long and short options" {
	run "$CULVERT" --help
	assert_success
	run "$CULVERT" serve --help
	assert_success
	assert_output --partial 'usage: culvert serve'

	run help_long_opts
	assert_line proxy
	assert_line help
	run help_short_opts
	assert_line p
	assert_line h
}

@test "every long option in --help is documented with Fl in the man page" {
	local o missing=
	for o in $(help_long_opts); do
		grep -qE "Fl \\\\?-$o$E" "$MAN" || missing+=" --$o"
	done
	assert_equal "$missing" ""
}

@test "every long option in the man page is in --help" {
	local o help missing=
	help=$(help_long_opts)
	for o in $(man_long_opts); do
		grep -qx -- "$o" <<<"$help" || missing+=" --$o"
	done
	assert_equal "$missing" ""
}

@test "every short option in --help has its own entry in the man page" {
	local o missing=
	for o in $(help_short_opts); do
		grep -qE "^\.It Fl $o( |$)" "$MAN" || missing+=" -$o"
	done
	assert_equal "$missing" ""
}

@test "every long option in --help is in the bash completion" {
	local o missing=
	for o in $(help_long_opts); do
		in_file "$BASHCOMP" "$B--$o$E" || missing+=" --$o"
	done
	assert_equal "$missing" ""
}

@test "every long option in --help is in the zsh completion" {
	local o missing=
	for o in $(help_long_opts); do
		in_file "$ZSHCOMP" "$B--$o$E" || missing+=" --$o"
	done
	assert_equal "$missing" ""
}

@test "every long option in --help is in the fish completion" {
	local o missing=
	for o in $(help_long_opts); do
		in_file "$FISHCOMP" "(-l|--long-option)[ =]$o$E" ||
		    missing+=" --$o"
	done
	assert_equal "$missing" ""
}

@test "every short option in --help is in all three completions" {
	local o missing=
	for o in $(help_short_opts); do
		in_file "$BASHCOMP" "$B-$o$E" || missing+=" bash:-$o"
		in_file "$ZSHCOMP" "$B-$o$E" || missing+=" zsh:-$o"
		in_file "$FISHCOMP" "(-s|--short-option)[ =]$o$E" ||
		    missing+=" fish:-$o"
	done
	assert_equal "$missing" ""
}

@test "every long option in --help is in README.md" {
	local o missing=
	for o in $(help_long_opts); do
		grep -qE -- "$B--$o$E" "$README" || missing+=" --$o"
	done
	assert_equal "$missing" ""
}

@test "the man page is clean under mandoc -Tlint -Wwarning" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -Wwarning "$MAN"
	assert_output ""
	assert_success
}

@test "the man page's EXIT STATUS section lists every code from 0 to 7" {
	local section n missing=
	section=$(awk '/^\.Sh /{ on = ($0 == ".Sh EXIT STATUS") ; next } on' "$MAN")
	[ -n "$section" ] || fail "no EXIT STATUS section in $MAN"
	for n in 0 1 2 3 4 5 6 7; do
		grep -qE "^\.It $n( |$)" <<<"$section" || missing+=" $n"
	done
	assert_equal "$missing" ""
}

@test "the bash completion parses with bash -n" {
	run bash -n "$BASHCOMP"
	assert_success
	assert_output ""
}

@test "the bash completion registers a completion for culvert" {
	run bash -c 'complete() { echo "complete $*"; }; source "$1"' _ "$BASHCOMP"
	assert_success
	assert_output --partial "culvert"
}

@test "the zsh completion parses with zsh -n" {
	command -v zsh >/dev/null || skip "zsh is not installed (apt-get install zsh)"
	run zsh -n "$ZSHCOMP"
	assert_success
	assert_output ""
	run head -n 1 "$ZSHCOMP"
	assert_output "#compdef culvert"
}

@test "the fish completion parses with fish -n" {
	command -v fish >/dev/null || skip "fish is not installed (apt-get install fish)"
	run fish -n "$FISHCOMP"
	assert_success
	assert_output ""
}

@test "the pure layers (proto, auth, route, crypto) never do I/O, log or exit" {
	run sh "$BATS_TEST_DIRNAME/layers.sh"
	assert_success
	assert_output ""
}
