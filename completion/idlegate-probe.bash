# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for idlegate-probe: its commands and their options, and
# the keys of a --flow spec. Installed as
# share/bash-completion/completions/idlegate-probe.

_idlegate_probe()
{
	local cur prev cmd i words cword IFS=$' \t\n'
	COMPREPLY=()
	# A flow spec has '=' in it, which bash splits words at: with
	# bash-completion, take the words whole (and trim the reply below).
	if declare -F _get_comp_words_by_ref >/dev/null; then
		_get_comp_words_by_ref -n =: cur prev words cword
	else
		local line=${COMP_LINE:0:COMP_POINT}
		read -ra words <<<"$line"
		[[ -z $line || $line == *[[:space:]] ]] && words+=("")
		cword=$((${#words[@]} - 1))
		cur=${words[cword]} prev=${words[cword-1]}
	fi
	cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $cmd in
	'')
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-v --verbose -q --quiet -h --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'server client version help' -- "$cur"))
		fi
		;;
	server)
		case $prev in
		-r|--results|--ready-file)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
		-l|--listen|--hello-timeout|--keep|--max-flows|--exit-after) return 0 ;;
		esac
		COMPREPLY=($(compgen -W '-l --listen -r --results --ready-file --hello-timeout --keep
			--max-flows --exit-after -v --verbose -q --quiet -h --help' -- "$cur"))
		;;
	client)
		case $prev in
		-F|--flows-file|-j|--json)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
		-f|--flow)
			# complete the key of the last KEY=VALUE of the spec
			local head=${cur%,*} last=${cur##*,} k
			[[ $cur == *,* ]] && head="$head," || head=
			[[ $last == *=* ]] && return 0
			# bash replaces only what follows the last '=' or ':' of cur
			local cut=${cur%"${cur##*[=:]}"}
			for k in $(compgen -W 'name proto family keepalive server_keepalive user_timeout
				heartbeat idle speaker cycles deadline expect server_end rebind' -- "$last"); do
				COMPREPLY+=("${head#"$cut"}$k=")
			done
			compopt -o nospace 2>/dev/null
			return 0 ;;
		-s|--server|--query-timeout) return 0 ;;
		esac
		COMPREPLY=($(compgen -W '-s --server -f --flow -F --flows-file -j --json --no-table
			--no-query --query-timeout -v --verbose -q --quiet -h --help' -- "$cur"))
		;;
	help)
		COMPREPLY=($(compgen -W 'server client' -- "$cur"))
		;;
	esac
	return 0
}
complete -F _idlegate_probe idlegate-probe
