# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for idlegate: subcommands, their options, profile names
# (from `idlegate profiles`), knob names (from `idlegate profiles --knobs`),
# scenario .ini files and, for `idlegate shell`, the hosts of the scenario.
# Installed as share/bash-completion/completions/idlegate.

# Scenario files (*.ini) and directories to descend into.
_idlegate_ini()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -d -- "$1") $(compgen -f -X '!*.ini' -- "$1"))
}

_idlegate_files()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -f -- "$1"))
}

_idlegate_dirs()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -d -- "$1"))
}

# Profile names as the program being completed finds them.
_idlegate_profile_names()
{
	"$1" profiles 2>/dev/null | awk 'NR > 1 && $1 != "" { print $1 }'
}

_idlegate_knob_names()
{
	"$1" profiles --knobs 2>/dev/null | sed -n 's/^| `\([^`]*\)`.*/\1/p'
}

_idlegate()
{
	local cur prev prog cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	prog=${COMP_WORDS[0]}
	[[ $prog == */* || -z $prog ]] || prog=$(type -P "$prog" 2>/dev/null || echo "$prog")

	# the subcommand: the first word after the global options
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-v --verbose -q --quiet -V --version -h --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'run check tune discover profiles shell ctl cleanup help' -- "$cur"))
		fi
		return 0
	fi

	case $cmd in
	help)
		COMPREPLY=($(compgen -W 'run check tune discover profiles shell ctl cleanup' -- "$cur"))
		;;
	run)
		case $prev in
		-j|--jobs) return 0 ;;
		--json|--junit) _idlegate_files "$cur"; return 0 ;;
		--svg) _idlegate_dirs "$cur"; return 0 ;;
		--shard) COMPREPLY=($(compgen -W '1/2 2/2 1/3 2/3 3/3 1/4 2/4 3/4 4/4' -- "$cur")); return 0 ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-j --jobs --json --junit --tap --svg --keep --shard --no-progress -h --help' -- "$cur"))
		else
			_idlegate_ini "$cur"
		fi
		;;
	check)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-q --quiet -d --dump -h --help' -- "$cur"))
		else
			_idlegate_ini "$cur"
		fi
		;;
	profiles)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-k --knobs -p --paths -h --help' -- "$cur"))
		elif [[ $cur == */* || $cur == .* ]]; then
			_idlegate_ini "$cur"
		else
			COMPREPLY=($(compgen -W "$(_idlegate_profile_names "$prog")" -- "$cur"))
		fi
		;;
	tune)
		case $prev in
		-p|--profile)
			# a comma-separated list: complete its last element
			local head=${cur%,*} last=${cur##*,} names n
			[[ $cur == *,* ]] && head="$head," || head=
			names=$(_idlegate_profile_names "$prog")
			for n in $(compgen -W "$names" -- "$last"); do
				COMPREPLY+=("$head$n")
			done
			compopt -o nospace 2>/dev/null
			return 0 ;;
		-s|--scenario) _idlegate_ini "$cur"; return 0 ;;
		--proto) COMPREPLY=($(compgen -W 'tcp udp' -- "$cur")); return 0 ;;
		--json|--svg) _idlegate_files "$cur"; return 0 ;;
		--time-scale) COMPREPLY=($(compgen -W '1/10 1/20 1/50 1/100' -- "$cur")); return 0 ;;
		--loss) return 0 ;;
		--set)
			COMPREPLY=($(compgen -S = -W "$(_idlegate_knob_names "$prog")" -- "$cur"))
			compopt -o nospace 2>/dev/null
			return 0 ;;
		esac
		COMPREPLY=($(compgen -W '-p --profile -s --scenario --proto --loss --time-scale --set --json --svg -h --help' -- "$cur"))
		;;
	shell)
		case $prev in
		-c|--command) return 0 ;;
		-p|--path)
			local f
			for ((i = i + 1; i < COMP_CWORD; i++)); do
				[[ ${COMP_WORDS[i]} == *.ini ]] && f=${COMP_WORDS[i]}
			done
			[[ -r $f ]] && COMPREPLY=($(compgen -W "$(sed -n 's/^\[flow "\{0,1\}\([^]"]*\)"\{0,1\}\].*/\1/p' "$f")" -- "$cur"))
			return 0 ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-p --path -c --command -h --help' -- "$cur"))
			return 0
		fi
		# FILE, then HOST: client, server or a middlebox of FILE
		local f= j
		for ((j = i + 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in
			-p|--path|-c|--command) ((j++)) ;;
			-*) ;;
			*) f=${COMP_WORDS[j]} ;;
			esac
		done
		if [[ -z $f ]]; then
			_idlegate_ini "$cur"
		elif [[ -r $f ]]; then
			COMPREPLY=($(compgen -W "client server $(sed -n 's/^\[middlebox "\{0,1\}\([^]"]*\)"\{0,1\}\].*/\1/p' "$f")" -- "$cur"))
		fi
		;;
	ctl)
		case $prev in
		-s|--socket) _idlegate_files "$cur"; return 0 ;;
		get|set)
			COMPREPLY=($(compgen -W "$(_idlegate_knob_names "$prog")" -- "$cur"))
			return 0 ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-s --socket -j --json -h --help' -- "$cur"))
		else
			local w
			for ((j = i + 1; j < COMP_CWORD; j++)); do
				w=${COMP_WORDS[j]}
				case $w in
				-s|--socket) ((j++)) ;;
				-*) ;;
				*) return 0 ;;	# the request is already there
				esac
			done
			COMPREPLY=($(compgen -W 'stats flows get set flush expire blackhole events' -- "$cur"))
		fi
		;;
	cleanup)
		COMPREPLY=($(compgen -W '-n --dry-run -a --all -h --help' -- "$cur"))
		;;
	discover)
		case $prev in
		-S|--server|--max|--deadline) return 0 ;;
		-p|--profile) COMPREPLY=($(compgen -W "$(_idlegate_profile_names "$prog")" -- "$cur")); return 0 ;;
		-s|--scenario) _idlegate_ini "$cur"; return 0 ;;
		--proto) COMPREPLY=($(compgen -W 'tcp udp both' -- "$cur")); return 0 ;;
		--json) _idlegate_files "$cur"; return 0 ;;
		-w|--write-profile) _idlegate_ini "$cur"; return 0 ;;
		--time-scale) COMPREPLY=($(compgen -W '1/10 1/20 1/50 1/100' -- "$cur")); return 0 ;;
		--set)
			COMPREPLY=($(compgen -S = -W "$(_idlegate_knob_names "$prog")" -- "$cur"))
			compopt -o nospace 2>/dev/null
			return 0 ;;
		esac
		COMPREPLY=($(compgen -W '-S --server -p --profile -s --scenario --set --time-scale --max --proto --deadline --json -w --write-profile -h --help' -- "$cur"))
		;;
	esac
	return 0
}
complete -F _idlegate idlegate
