#!/usr/bin/env bash
# Builds the offline images the end-to-end tests (and `just demo`) use, from
# static binaries on this machine: no registry is needed or contacted.
#
#   cderun-e2e/busybox:<hash>  a scratch rootfs with static busybox only
#                              (no runtime CLI: for the Engine API transport)
#   cderun-e2e/docker:<hash>   the same plus the docker CLI
#
# <hash> covers this script and every binary that goes in, so an image is
# rebuilt exactly when its content would change. Neither image contains
# cderun: cderun gets into a container only by mounting itself.
#
# Prints `busybox=IMAGE` and `docker=IMAGE` on stdout.
# Knobs: BUSYBOX, DOCKER_CLI (paths of the binaries to use).
set -euo pipefail

docker_bin=${DOCKER:-docker}
busybox=${BUSYBOX:-$(command -v busybox || true)}
if [ -z "$busybox" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y -qq busybox-static >/dev/null
  busybox=$(command -v busybox)
fi
if [ -z "$busybox" ]; then
  echo "images.sh: busybox not found; install busybox-static (apt-get install busybox-static) or set BUSYBOX" >&2
  exit 1
fi
docker_cli=${DOCKER_CLI:-$(command -v docker)}

# A dynamically linked binary brings its loader and libraries along, so the
# script also works where the docker CLI is not static (some CI runners).
add_binary() { # rootfs source dest
  local root=$1 src=$2 dest=$3
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$src" "$root$dest"
  chmod 0755 "$root$dest"
  if ldd "$src" >/dev/null 2>&1; then
    ldd "$src" | grep -o '/[^ ]*' | while read -r lib; do
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  fi
}

hash=$(cat "$0" "$busybox" "$docker_cli" | sha256sum | cut -c1-12)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # name with_docker
  local tag=cderun-e2e/$1:$hash root=$work/$1
  if ! "$docker_bin" image inspect "$tag" >/dev/null 2>&1; then
    mkdir -p "$root"/{bin,etc,tmp,usr/bin,usr/local/bin,var/run,work}
    chmod 1777 "$root/tmp"
    add_binary "$root" "$busybox" /bin/busybox
    for applet in $("$busybox" --list); do
      [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    if [ "$2" = yes ]; then add_binary "$root" "$docker_cli" /usr/bin/docker; fi
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    tar --numeric-owner -C "$root" -cf - . |
      "$docker_bin" import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["/bin/sh"]' - "$tag" >/dev/null
  fi
  echo "$1=$tag"
}

build busybox no
build docker yes
