# berth.bash — bash completion for the berth CLI: verbs, sub-verbs, flags
# per verb, and container, image, network, snapshot and operation names
# asked of berthd through berth itself (its tables; no jq). When berthd
# cannot be reached the names are simply not offered.

_berth_verbs="create start restart suspend resume stop destroy autostart exec enter set console log list status
  events metrics snapshot rollback snapshots commit image operation network trust project env node cluster"
_berth_global_flags="--socket --remote --cert --key --ca"
_berth_field_flags="--hostname --disk --init --ram --swap --cpus --cpulimit --cpuweight --cpuset --pids
  --autostart --boot-order --boot-delay --restart --stop-timeout --net --nameserver --searchdomain --rate --port
  --ssh-key --root-password"
_berth_registry_flags="--creds --creds-file --ca --tls-ca --plain-http --quiet"

# The first column of a berth table (skipping its header), from the same
# binary and global options as the command line being completed.
_berth_names() {
  local cmd=("${_berth_cmd[@]}" "$@") line header=1
  if type -P timeout >/dev/null; then cmd=(timeout 3 "${cmd[@]}"); fi
  "${cmd[@]}" 2>/dev/null </dev/null | while read -r line _; do
    if [[ $header ]]; then header=; continue; fi
    [[ $line ]] && printf '%s\n' "$line"
  done
}

# COMPREPLY from a word list, fitted to the part of the word after its
# last ':' (bash splits words at ':', so it replaces only that part).
_berth_reply() {
  local w words
  mapfile -t words < <(compgen -W "$1" -- "$_berth_cur")
  COMPREPLY=()
  for w in "${words[@]}"; do
    [[ $_berth_cur == *:* ]] && w=${w#"${_berth_cur%:*}:"}
    COMPREPLY+=("$w")
  done
}

_berth_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen "${1:--f}" -- "$_berth_cur")
}

# The words of the command line with those bash split at ':' joined again
# ("reg:5000/app" is one argument to berth).
_berth_join_words() {
  local i w
  _berth_words=() _berth_cword=0
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    if ((i > 0)) && [[ $w == :* || ${COMP_WORDS[i - 1]} == *: ]] && ((${#_berth_words[@]} > 1)); then
      _berth_words[-1]+=$w
    else
      _berth_words+=("$w")
    fi
    ((i == COMP_CWORD)) && _berth_cword=$((${#_berth_words[@]} - 1))
  done
  _berth_cur=${_berth_words[_berth_cword]}
}

# Values of flags that take one; returns 1 for a flag without a value.
_berth_flag_value() {
  case $1 in
    --socket | --cert | --key | --ca | --tls-ca | --creds-file | --ssh-key) _berth_files ;;
    --rootfs) _berth_files -d ;;
    --template) _berth_reply "$(_berth_names image ls)" ;;
    --net) _berth_reply "$(_berth_names network ls)" ;;
    --init) _berth_reply "busybox systemd" ;;
    --autostart | --privileged | --nat) _berth_reply "yes no" ;;
    --role) _berth_reply "viewer operator admin node" ;;
    --restart) _berth_reply "no on-failure always" ;;
    --mode) _berth_reply "bridged routed" ;;
    --format) _berth_reply "json" ;;
    --remote | --hostname | --disk | --ram | --swap | --cpus | --cpulimit | --cpuweight | --cpuset | --pids | \
      --boot-order | --boot-delay | --stop-timeout | --nameserver | --searchdomain | --rate | --port | --timeout | \
      --subnet | --gateway | --subnet6 | --gateway6 | --dns | --search | --bridge | --uplink | --mtu | --tag | \
      --platform | --creds | --packages | --mirror | --root-password | --project | --name | --containers) COMPREPLY=() ;;
    --suite) _berth_reply "bookworm trixie bullseye" ;;
    *) return 1 ;;
  esac
}

_berth() {
  local _berth_words _berth_cword _berth_cur _berth_cmd
  _berth_join_words
  local cur=$_berth_cur prev=${_berth_words[_berth_cword - 1]} i=1
  _berth_cmd=("${_berth_words[0]}")
  while [[ " $_berth_global_flags " == *" ${_berth_words[i]} "* ]] && ((i + 1 < _berth_cword)); do
    _berth_cmd+=("${_berth_words[i]}" "${_berth_words[i + 1]}")
    ((i += 2))
  done
  if ((_berth_cword == i)); then
    if [[ $cur == -* ]]; then _berth_reply "$_berth_global_flags"; else _berth_reply "$_berth_verbs"; fi
    return
  fi
  if ((_berth_cword > i)) && _berth_flag_value "$prev"; then return; fi
  ((_berth_cword < i)) && return
  local verb=${_berth_words[i]} sub=${_berth_words[i + 1]} n=$((_berth_cword - i))
  case $verb in
    create)
      ((n == 1)) && return
      _berth_reply "--template --rootfs --privileged --project $_berth_field_flags"
      ;;
    set)
      if ((n == 1)); then _berth_reply "$(_berth_names list)"; else _berth_reply "$_berth_field_flags --format"; fi
      ;;
    start | restart | suspend | resume | enter | console | log)
      ((n == 1)) && _berth_reply "$(_berth_names list)"
      ;;
    status | snapshots)
      if ((n == 1)); then _berth_reply "$(_berth_names list)"; else _berth_reply "--format"; fi
      ;;
    stop)
      if ((n == 1)); then _berth_reply "--all $(_berth_names list)"; else _berth_reply "--force --timeout"; fi
      ;;
    destroy)
      if ((n == 1)); then _berth_reply "$(_berth_names list)"; else _berth_reply "--force"; fi
      ;;
    exec)
      if ((n == 1)); then _berth_reply "-t --tty --timeout $(_berth_names list)"
      elif ((n == 2)) && [[ $sub == -t || $sub == --tty ]]; then _berth_reply "$(_berth_names list)"
      elif [[ " ${_berth_words[*]:i:_berth_cword-i} " != *" -- "* && $cur == -* ]]; then _berth_reply "--"
      fi
      ;;
    snapshot | commit)
      ((n == 1)) && _berth_reply "$(_berth_names list)"
      ;;
    rollback)
      if ((n == 1)); then _berth_reply "$(_berth_names list)"; elif ((n == 2)); then _berth_reply "$(_berth_names snapshots "$sub")"; fi
      ;;
    list) _berth_reply "--format" ;;
    events) ((n == 1)) && _berth_reply "--type" ;;
    image) _berth_image ;;
    operation)
      if ((n == 1)); then _berth_reply "ls show wait cancel"
      elif ((n == 2)) && [[ $sub != ls ]]; then _berth_reply "$(_berth_names operation ls)"
      else _berth_reply "--format"
      fi
      ;;
    network)
      if ((n == 1)); then _berth_reply "create ls rm"
      elif [[ $sub == rm ]] && ((n == 2)); then _berth_reply "$(_berth_names network ls)"
      elif [[ $sub == ls ]]; then _berth_reply "--format"
      elif [[ $sub == create ]] && ((n > 2)); then
        _berth_reply "--mode --subnet --gateway --subnet6 --gateway6 --dns --search --bridge --uplink --mtu --nat"
      fi
      ;;
    trust)
      if ((n == 1)); then _berth_reply "ls add rm"
      elif [[ $sub == add ]] && ((n == 2)); then _berth_files
      elif [[ $sub == add ]]; then _berth_reply "--role --project --name"
      elif [[ $sub == ls ]]; then _berth_reply "--format"
      fi
      ;;
    project)
      if ((n == 1)); then _berth_reply "ls set"
      elif [[ $sub == set ]] && ((n > 2)); then _berth_reply "--containers --ram --disk --cpus"
      elif [[ $sub == ls ]]; then _berth_reply "--format"
      fi
      ;;
    env)
      if ((n == 1)); then _berth_reply "create apply scale delete show list"
      elif [[ $sub == create || $sub == apply ]]; then _berth_files
      fi
      ;;
    node) ((n == 1)) && _berth_reply "list cordon uncordon drain remove" ;;
    cluster) ((n == 1)) && _berth_reply "status events move" ;;
  esac
}

# berth image SUB ...: sub-verbs, images of the node, flags per sub-verb.
_berth_image() {
  if ((n == 1)); then
    _berth_reply "ls pull push rm prune inspect build-template"
    return
  fi
  case $sub in
    ls | prune) _berth_reply "--format" ;;
    pull) [[ $cur == -* ]] && _berth_reply "--tag --platform $_berth_registry_flags --format" ;;
    push)
      if ((n == 2)) && [[ $cur != -* ]]; then _berth_reply "$(_berth_names image ls)"
      elif [[ $cur == -* ]]; then _berth_reply "$_berth_registry_flags --format"
      fi
      ;;
    rm) ((n == 2)) && _berth_reply "$(_berth_names image ls)" ;;
    inspect) if ((n == 2)); then _berth_reply "$(_berth_names image ls)"; else _berth_reply "--format"; fi ;;
    build-template)
      if ((n == 2)); then _berth_reply "busybox debian"; elif ((n > 3)); then _berth_reply "--packages --suite --mirror"; fi
      ;;
  esac
}

complete -F _berth berth
