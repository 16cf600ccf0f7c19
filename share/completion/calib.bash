# bash completion for calib(1): commands, their options, backends, formats,
# and experiment files (*.yaml) or output folders as the operand.
_calib()
{
	local cur prev cmd opts
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "check init run exec update status
		    report amend export cancel backends help --version -h" \
		    -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $prev in
	-b|--backend)
		COMPREPLY=($(compgen -W "local slurm pbs torque" -- "$cur"))
		return ;;
	-f|--format)
		if [ "$cmd" = export ]; then
			COMPREPLY=($(compgen -W "toml json yaml env template" \
			    -- "$cur"))
			return
		fi ;;
	-o|--output)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-i|--iteration|-m|--member|-j|--jobs)
		return ;;
	esac
	case $cmd in
	check) opts="-b --backend --smoke -h --help" ;;
	init) opts="--force -h --help" ;;
	run) opts="-b --backend -d --detach -j --jobs -n --dry-run --report
	    --retry-failed -v --verbose -h --help" ;;
	exec) opts="-f --force -i --iteration -m --member -h --help" ;;
	update) opts="-i --iteration -h --help" ;;
	status) opts="--json -h --help" ;;
	report) opts="-o --output -h --help" ;;
	amend) opts="-n --dry-run -h --help" ;;
	export) opts="-i --iteration --mean -m --member -f --format -o
	    --output -h --help" ;;
	cancel|backends) opts="-h --help" ;;
	help)
		COMPREPLY=($(compgen -W "check init run exec update status
		    report amend export cancel backends" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -- "$cur"))
}
complete -F _calib -o filenames calib
