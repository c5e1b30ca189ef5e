# The container engine for docker/*.sh, sourced by them.
#
# Docker when its daemon answers, else Podman; ALGOPERF_ENGINE=docker|podman
# forces one. Without either, Podman (and runc) is installed with apt-get
# where this shell may (root, or sudo without a password). Podman is set up
# for sandboxes like our CI machines: the runc runtime (crun refuses cgroups
# v1 in hybrid mode) and container ulimits no higher than this shell's hard
# limits (above them, setrlimit fails with "Operation not permitted"). The
# settings go to a containers.conf of their own (CONTAINERS_CONF), so the
# machine's configuration is left as it is.
#
# Sets ENGINE (docker or podman); engine_say prints one prefixed line.

engine_say() {
  echo "${ENGINE_LOG_PREFIX:-engine}: $*" >&2
}

engine_fail() {
  engine_say "error: $*"
  exit 1
}

_docker_answers() {
  command -v docker > /dev/null && docker info > /dev/null 2>&1
}

_install_podman() {
  local sudo=''
  if [[ "$(id -u)" != 0 ]]; then
    sudo -n true 2> /dev/null || return 1
    sudo='sudo -n'
  fi
  command -v apt-get > /dev/null || return 1
  engine_say 'installing podman and runc with apt-get'
  $sudo apt-get update -qq > /dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      podman runc > /dev/null
}

_configure_podman() {
  local conf_dir="${XDG_CACHE_HOME:-$HOME/.cache}/algoperf-bench"
  local nofile nproc pid_max
  nofile="$(ulimit -Hn)"
  nproc="$(ulimit -Hu)"
  # Podman's own RLIMIT_NPROC stops at the kernel's pid_max, so a container
  # asking for more (the hard limit of a sandbox, say) is refused.
  pid_max="$(cat /proc/sys/kernel/pid_max 2> /dev/null || echo 32768)"
  [[ "$nofile" == unlimited ]] && nofile=1048576
  [[ "$nproc" == unlimited || "$nproc" -gt "$pid_max" ]] && nproc="$pid_max"
  mkdir -p "$conf_dir"
  {
    echo '[containers]'
    echo "default_ulimits = [\"nofile=$nofile:$nofile\"," \
      "\"nproc=$nproc:$nproc\"]"
    echo '[engine]'
    command -v runc > /dev/null && echo 'runtime = "runc"'
    echo 'events_logger = "file"'
  } > "$conf_dir/containers.conf"
  export CONTAINERS_CONF="$conf_dir/containers.conf"
}

engine_pick() {
  case "${ALGOPERF_ENGINE:-}" in
    docker)
      _docker_answers || engine_fail 'ALGOPERF_ENGINE=docker but the' \
        'Docker daemon does not answer (docker info); start it or unset' \
        'ALGOPERF_ENGINE.'
      ENGINE=docker ;;
    podman)
      command -v podman > /dev/null || _install_podman ||
        engine_fail 'ALGOPERF_ENGINE=podman but podman is not installed' \
          'and cannot be installed here; install podman (and runc).'
      ENGINE=podman ;;
    '')
      if _docker_answers; then
        ENGINE=docker
      elif command -v podman > /dev/null || _install_podman; then
        ENGINE=podman
      else
        engine_fail 'no container engine: the Docker daemon does not answer' \
          'and podman cannot be installed here; install docker or podman.'
      fi ;;
    *)
      engine_fail "ALGOPERF_ENGINE is '$ALGOPERF_ENGINE'; use docker or" \
        'podman, or unset it.' ;;
  esac
  if [[ "$ENGINE" == podman ]]; then
    _configure_podman
  fi
  engine_say "using $ENGINE ($($ENGINE --version 2> /dev/null | head -1))"
}
