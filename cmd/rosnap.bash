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

# The options of VERB that take a value, short and long: in its --help,
# those followed by one space and the value's name.
_rosnap_valued()
{
	rosnap "$1" --help 2>/dev/null | awk '
		/^ +(-[a-zA-Z0-9], )?--[a-z][a-z-]* [^ ]/ {
			for (i = 1; i <= NF; i++) {
				w = $i
				sub(/,$/, "", w)
				if (w !~ /^-/)
					break
				print w
			}
		}'
}

_rosnap()
{
	local cur prev words cword
	_init_completion || return

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
	local valued=" $(_rosnap_valued "$verb" | tr '\n' ' ') "

	if [[ $valued == *" $prev "* ]]; then
		case $prev in
		--backend | -b)
			COMPREPLY=($(compgen -W 'zram brd auto' -- "$cur"))
			;;
		--compression | -C)
			COMPREPLY=($(compgen -W "$(_rosnap_algorithms)" -- "$cur"))
			;;
		--store | -s | --journal | -j | --origin)
			_filedir
			COMPREPLY+=($(compgen -W "$(_rosnap_blockdevs)" -- "$cur"))
			;;
		--restore | --key-file | --config | -f | --cmdline | --metrics | \
			--link | --exec | -e)
			_filedir
			;;
		--generator)
			_filedir -d
			;;
		--output | -o)
			# A comma-separated list, maybe after a '+': the last one.
			local pre=${cur%"${cur##*,}"} last=${cur##*,}
			if [[ -z $pre && $last == +* ]]; then
				pre=+
				last=${last#+}
			fi
			COMPREPLY=($(compgen -P "$pre" -W "$(rosnap "$verb" --help \
				2>/dev/null | awk '/^Columns/ { c = 1; next }
						   c && NF { print $1 }')" -- "$last"))
			;;
		esac
		# Sizes, names, numbers: nothing to offer.
		return
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(rosnap "$verb" --help 2>/dev/null |
			grep -oE '(^|[ ,])--[a-z][a-z-]*' | tr -d ' ,' | sort -u)" \
			-- "$cur"))
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
