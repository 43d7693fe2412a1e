# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for rosnap(8).  The verbs and their options come from
# rosnap's own --help, so that they never drift from the program.

# rosnap's devices: from its own list (as root), or udev's /dev/rosnap.
_rosnap_devices()
{
	local d
	{
		rosnap list 2>/dev/null | awk 'NR > 1 { print $1 }'
		for d in /dev/rosnap/*; do
			[[ -e $d ]] && printf '%s\n' "${d##*/}"
		done
	} | sort -u
}

# Block devices, for an origin or a store.
_rosnap_blockdevs()
{
	local d
	for d in /sys/class/block/*; do
		[[ -e $d ]] && printf '/dev/%s\n' "${d##*/}"
	done
}

# zram's algorithms as the running kernel offers them, else the usual.
_rosnap_algorithms()
{
	local f
	for f in /sys/block/zram*/comp_algorithm; do
		if [[ -r $f ]]; then
			tr -d '[]' <"$f" | tr ' ' '\n'
			return
		fi
	done
	printf '%s\n' lzo lzo-rle lz4 lz4hc zstd 842
}

# VERB's options, from the option table of its --help (lines that start
# with an option): "SHORT LONG VALUE" each ("-" for none).
_rosnap_options()
{
	rosnap "$1" --help 2>/dev/null | awk '
		/^ +(-[a-zA-Z0-9], )?--[a-z][a-z-]*/ {
			short = "-"; i = 1
			if ($1 ~ /^-[a-zA-Z0-9],$/) { short = substr($1, 1, 2); i = 2 }
			long = $i
			# One space, then the value: a value; two: its description.
			v = index($0, long " ") && substr($0, index($0, long " ") + length(long) + 1, 1) != " "
			print short, long, v ? "value" : "-"
		}'
}

_rosnap()
{
	local cur prev words cword
	_init_completion -s || return

	local verb= i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} != -* ]]; then
			verb=${words[i]}
			break
		fi
	done
	if [[ -z $verb ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(rosnap --help 2>/dev/null |
				awk '/^Verbs:/ { v = 1; next }
				     v && /^  [a-z]/ { print $1; next }
				     v && /^$/ { exit }')" -- "$cur"))
		fi
		return
	fi
	local opts valued= long=$prev
	opts=$(_rosnap_options "$verb")
	# The options that take a value, short and long; prev by its long name.
	valued=" $(awk '$3 == "value" { if ($1 != "-") print $1; print $2 }' \
		<<<"$opts" | tr '\n' ' ') "
	[[ $prev == -? ]] && long=$(awk -v o="$prev" '$1 == o { print $2 }' <<<"$opts")

	if [[ $prev == -* && $valued == *" $prev "* ]]; then
		case $long in
		--backend)
			COMPREPLY=($(compgen -W 'zram brd auto' -- "$cur"))
			;;
		--compression)
			COMPREPLY=($(compgen -W "$(_rosnap_algorithms)" -- "$cur"))
			;;
		--profile)
			COMPREPLY=($(compgen -W 'edits reads' -- "$cur"))
			;;
		--store | --journal | --origin)
			_filedir
			COMPREPLY+=($(compgen -W "$(_rosnap_blockdevs)" -- "$cur"))
			;;
		--restore | --key-file | --config | --cmdline | --metrics | \
			--link | --exec)
			_filedir
			;;
		--generator)
			_filedir -d
			;;
		--output)
			# A comma-separated list, maybe after a '+': the last one.
			local pre=${cur%"${cur##*,}"} last=${cur##*,}
			if [[ -z $pre && $last == +* ]]; then
				pre=+
				last=${last#+}
			fi
			compopt -o nospace 2>/dev/null
			COMPREPLY=($(compgen -P "$pre" -W "$(rosnap "$verb" --help \
				2>/dev/null | awk '/^Columns/ { c = 1; next }
						   c && NF { print $1 }')" -- "$last"))
			;;
		esac
		# Sizes, names, numbers: nothing to offer.
		return
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(awk '{ print $2 }' <<<"$opts")" -- "$cur"))
		return
	fi

	# The verb's operands before this one: words that are neither an
	# option nor an option's value.
	local n=0
	for ((i = i + 1; i < cword; i++)); do
		[[ ${words[i]} == -* || $valued == *" ${words[i - 1]} "* ]] ||
			n=$((n + 1))
	done

	case $verb in
	create | attach | boot)
		# ORIGIN (ROOT): a block device or a disk image.
		((n == 0)) || return
		_filedir
		COMPREPLY+=($(compgen -W "$(_rosnap_blockdevs)" -- "$cur"))
		;;
	save)
		if ((n == 0)); then
			COMPREPLY=($(compgen -W "$(_rosnap_devices)" -- "$cur"))
		elif ((n == 1)); then
			_filedir
		fi
		;;
	recover)
		((n == 0)) && _filedir
		;;
	monitor)
		COMPREPLY=($(compgen -W "$(_rosnap_devices)" -- "$cur"))
		;;
	status | merge | discard | protect | origin | grow | remove)
		((n == 0)) &&
			COMPREPLY=($(compgen -W "$(_rosnap_devices)" -- "$cur"))
		;;
	esac
} &&
	complete -F _rosnap rosnap
