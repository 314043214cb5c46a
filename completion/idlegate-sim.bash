# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for idlegate-sim: options, interface names, profile
# names and knob names for --set. Installed as
# share/bash-completion/completions/idlegate-sim.

_idlegate_sim()
{
	local cur prev prog dir
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	prog=${COMP_WORDS[0]}
	[[ $prog == */* ]] || prog=$(type -P "$prog" 2>/dev/null)
	case $prev in
	--inside|--outside)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return 0 ;;
	--profile)
		if [[ $cur == */* || $cur == .* ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.ini' -- "$cur"))
		else
			# the profiles idlegate (next to this program, or in PATH) lists
			local ig
			dir=${prog%/*}
			for ig in "$dir/idlegate" "$dir/../bin/idlegate" "$(type -P idlegate 2>/dev/null)"; do
				[[ -x $ig ]] && break
			done
			[[ -x $ig ]] && COMPREPLY=($(compgen -W "$("$ig" profiles 2>/dev/null | awk 'NR > 1 && $1 != "" { print $1 }')" -- "$cur"))
		fi
		return 0 ;;
	--set)
		[[ -n $prog ]] && COMPREPLY=($(compgen -S = -W "$("$prog" --help 2>/dev/null |
			awk '/^Knobs/ { k = 1; next } /^[^ ]/ { k = 0 } k && /^  [a-z]/ { print $1 }')" -- "$cur"))
		compopt -o nospace 2>/dev/null
		return 0 ;;
	--ctl|--events|--pcap|--ready-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--queue-num|--table|--mark) return 0 ;;
	esac
	COMPREPLY=($(compgen -W '--inside --outside --profile --set --queue-num --table --mark
		--fail-open --realtime --ctl --events --pcap --ready-file --no-ready-line -v --verbose
		-q --quiet -h --help -V --version' -- "$cur"))
	return 0
}
complete -F _idlegate_sim idlegate-sim
