# bash completion for hive-cli(1)                        -*- shell-script -*-
#
# Installed as share/bash-completion/completions/hive-cli.  It needs
# nothing from the bash-completion package.  Completes verbs, each
# verb's flags (as its --help lists them: tests/integration/test_help.sh
# checks both against docs/man/hive-cli.1), channel and urgency values,
# and file and directory arguments.

_hive_cli()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= verb= flags=
	local verbs='admin keygen keys pending policy reload reply roster send
	    setup status sync-status trust verify'
	local channels='command response sync heartbeat status alert'
	local common='-c --config -h --host -p --port -u --username
	    --password-file --prefix --cafile --capath --cert --key --keys
	    --sign-key --socket --max-skew --max-ttl -v --verbose --help'

	COMPREPLY=()
	if [ "$COMP_CWORD" -gt 0 ]; then
		prev=${COMP_WORDS[COMP_CWORD-1]}
	fi
	# --opt=value: bash splits it into "--opt" "=" "value"
	if [ "$cur" = "=" ]; then
		prev=${COMP_WORDS[COMP_CWORD-1]}
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	fi

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$verbs help --help --version" -- "$cur"))
		return 0
	fi
	verb=${COMP_WORDS[1]}

	# the subcommand word of "admin keygen", "keys list" and "policy explain"
	case $verb in
	admin|keys|policy|trust)
		if [ "$COMP_CWORD" -eq 2 ]; then
			case $verb in
			admin) COMPREPLY=($(compgen -W 'keygen --help' -- "$cur")) ;;
			trust) COMPREPLY=($(compgen -W 'show add remove revoke --help' \
			    -- "$cur")) ;;
			keys) COMPREPLY=($(compgen -W 'list --help' -- "$cur")) ;;
			policy) COMPREPLY=($(compgen -W 'explain --help' -- "$cur")) ;;
			esac
			return 0
		fi
		;;
	esac

	# the value of the flag before the cursor
	case $prev in
	--ch)
		COMPREPLY=($(compgen -W "$channels" -- "$cur"))
		return 0 ;;
	--urgency)
		COMPREPLY=($(compgen -W 'now later' -- "$cur"))
		return 0 ;;
	--to)
		COMPREPLY=($(compgen -W 'all' -- "$cur"))
		return 0 ;;
	-c|--config|--password-file|--cafile|--cert|--key|--sign-key|--socket|--to-msg|\
	--pid-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--capath|--keys|--dir|--root|--profiles)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0 ;;
	-h|--host|-p|--port|-u|--username|--prefix|--max-skew|--max-ttl|\
	--node|--text|--ttl|--action|--args|--corr|--wait|--replies|\
	--session|--from|--broker)
		return 0 ;;	# free text: nothing to offer
	esac

	case $verb in
	admin)		flags='--dir --help' ;;
	trust)		flags='--from --out --cluster --admin-key --admin-pub --role
		    --before --json --help' ;;
	keygen)		flags='--node --dir --help' ;;
	keys)		flags=$common ;;
	verify)		flags="--no-time $common" ;;
	send)		flags="--to --ch --text --urgency --ttl --action --args
			    --corr --wait --replies --session --from --force
			    $common" ;;
	reply)		flags="--to-msg --text --urgency --ttl --no-verify
			    $common" ;;
	status|roster|pending)
			flags="--json $common" ;;
	sync-status)	flags="--json --action $common" ;;
	policy)		flags="--from --ch --action $common" ;;
	reload)		flags='-c --config --pid-file --help' ;;
	setup)		flags='--node --broker --root --prefix --cafile --username
			    --password-file --profiles --help' ;;
	*)		return 0 ;;
	esac

	if [[ $cur == -* ]] || [ "$verb" != verify ]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	else	# verify [FILE|-]
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
	return 0
}
complete -F _hive_cli hive-cli
