#!/usr/bin/env bash
# Build the development tools (control plane, etcd, kwok, staticcheck) from
# pinned Go modules into a per-version cache directory.
#
#   hack/build-tools.sh [--print-dir] [tool...]
#
# Tools (default: k8s etcd kwok staticcheck):
#   k8s          kube-apiserver kube-scheduler kube-controller-manager kubectl
#   kube-apiserver | kube-scheduler | kube-controller-manager | kubectl
#   kubelet      (only when asked)
#   kube-proxy   (only when asked)
#   etcd
#   kwok         kwok binary plus its stage files in <dir>/stages/
#   staticcheck
#   coredns      (only when asked) CoreDNS for hack/real-node, from hack/tools/coredns
#   goreleaser   (only when asked) release builds, from hack/tools/release
#   krew | validate-krew-manifest
#                (only when asked) krew itself and its manifest validator
#   release      goreleaser krew validate-krew-manifest
#   all          everything above, including kubelet and kube-proxy
#
# Binaries land in ${KTRIAGE_CACHE_DIR:-$HOME/.cache/ktriage}/bin/<tool>-<version>/.
# A tool whose binary is already there is not rebuilt.
# --print-dir prints "<tool> <dir>" for each requested tool instead of building.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_DIR="${HACK_DIR}/tools"
CACHE_DIR="${KTRIAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ktriage}"
BIN_ROOT="${CACHE_DIR}/bin"

KWOK_VERSION=v0.8.0
KWOK_STAGES=(node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete)

log() { printf '%s\n' "build-tools: $*" >&2; }
die() { log "error: $*"; exit 1; }

# gomod_version <go.mod> <module path>: the version a tools module requires.
gomod_version() {
	local v
	v="$(awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1")"
	[[ -n "$v" ]] || die "cannot find $2 in $1"
	printf '%s\n' "$v"
}

K8S_VERSION="$(gomod_version "${TOOLS_DIR}/k8s/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(gomod_version "${TOOLS_DIR}/etcd/go.mod" go.etcd.io/etcd/server/v3)"
STATICCHECK_VERSION="$(gomod_version "${TOOLS_DIR}/lint/go.mod" honnef.co/go/tools)"
COREDNS_VERSION="$(gomod_version "${TOOLS_DIR}/coredns/go.mod" github.com/coredns/coredns)"
GORELEASER_VERSION="$(gomod_version "${TOOLS_DIR}/release/go.mod" github.com/goreleaser/goreleaser/v2)"
KREW_VERSION="$(gomod_version "${TOOLS_DIR}/release/go.mod" sigs.k8s.io/krew)"

K8S_DIR="${BIN_ROOT}/k8s-${K8S_VERSION}"
ETCD_DIR="${BIN_ROOT}/etcd-${ETCD_VERSION}"
KWOK_DIR="${BIN_ROOT}/kwok-${KWOK_VERSION}"
STATICCHECK_DIR="${BIN_ROOT}/staticcheck-${STATICCHECK_VERSION}"
COREDNS_DIR="${BIN_ROOT}/coredns-${COREDNS_VERSION}"
GORELEASER_DIR="${BIN_ROOT}/goreleaser-${GORELEASER_VERSION}"
KREW_DIR="${BIN_ROOT}/krew-${KREW_VERSION}"
VALIDATE_KREW_DIR="${BIN_ROOT}/validate-krew-manifest-${KREW_VERSION}"

K8S_DEFAULT=(kube-apiserver kube-scheduler kube-controller-manager kubectl)
K8S_ALL=("${K8S_DEFAULT[@]}" kubelet kube-proxy)

# Builds must not see a go.work, must not touch go.mod/go.sum, and produce
# static binaries.
export GOWORK=off
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
GOBUILD_FLAGS=(-trimpath "-ldflags=-s -w")

# The k8s binaries report the release they are built from (kubectl version,
# /version, the kwok nodes' version skew checks) as release builds do.
k8s_ldflags() {
	local v="${K8S_VERSION#v}" pkg flags="-s -w"
	local major="${v%%.*}" minor="${v#*.}"
	minor="${minor%%.*}"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
		flags+=" -X ${pkg}.gitCommit= -X ${pkg}.gitTreeState=clean"
	done
	printf '%s\n' "$flags"
}
K8S_BUILD_FLAGS=(-trimpath "-ldflags=$(k8s_ldflags)")

tool_dir() {
	case "$1" in
	kube-* | kubectl | kubelet) printf '%s\n' "$K8S_DIR" ;;
	etcd) printf '%s\n' "$ETCD_DIR" ;;
	kwok) printf '%s\n' "$KWOK_DIR" ;;
	staticcheck) printf '%s\n' "$STATICCHECK_DIR" ;;
	coredns) printf '%s\n' "$COREDNS_DIR" ;;
	goreleaser) printf '%s\n' "$GORELEASER_DIR" ;;
	krew) printf '%s\n' "$KREW_DIR" ;;
	validate-krew-manifest) printf '%s\n' "$VALIDATE_KREW_DIR" ;;
	*) die "unknown tool $1" ;;
	esac
}

# stamp <tool>: identifies how a tool is built (its module's go.mod/go.sum, its
# main and the build flags). A binary whose recorded stamp differs is rebuilt.
stamp() {
	local t="$1"
	{
		case "$t" in
		kube-* | kubectl | kubelet)
			cat "${TOOLS_DIR}/k8s/go.mod" "${TOOLS_DIR}/k8s/go.sum" "${TOOLS_DIR}/k8s/cmd/${t}/main.go"
			printf '%s\n' "${K8S_BUILD_FLAGS[@]}"
			;;
		etcd)
			cat "${TOOLS_DIR}/etcd/go.mod" "${TOOLS_DIR}/etcd/go.sum" "${TOOLS_DIR}/etcd/cmd/etcd/main.go"
			printf '%s\n' "${GOBUILD_FLAGS[@]}"
			;;
		kwok) printf '%s\n' "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" "${GOBUILD_FLAGS[@]}" ;;
		staticcheck)
			cat "${TOOLS_DIR}/lint/go.mod" "${TOOLS_DIR}/lint/go.sum"
			printf '%s\n' "${GOBUILD_FLAGS[@]}"
			;;
		coredns)
			cat "${TOOLS_DIR}/coredns/go.mod" "${TOOLS_DIR}/coredns/go.sum" "${TOOLS_DIR}/coredns/cmd/coredns/main.go"
			printf '%s\n' "${GOBUILD_FLAGS[@]}"
			;;
		goreleaser | krew | validate-krew-manifest)
			cat "${TOOLS_DIR}/release/go.mod" "${TOOLS_DIR}/release/go.sum"
			printf '%s\n' "$t" "${GOBUILD_FLAGS[@]}"
			;;
		esac
	} | sha256sum | cut -c1-16
}

have() {
	local d
	d="$(tool_dir "$1")"
	[[ -x "${d}/$1" && -f "${d}/.$1.stamp" && "$(<"${d}/.$1.stamp")" == "$(stamp "$1")" ]]
}

# with_lock <dir> <command...>: serialise builds into the same directory.
with_lock() {
	local dir="$1"
	shift
	mkdir -p "$dir"
	(
		flock 9
		"$@"
	) 9>"${dir}/.lock"
}

# install_from <tmpdir> <destdir> <names...>: move built binaries into place.
install_from() {
	local tmp="$1" dest="$2" n
	shift 2
	for n in "$@"; do
		[[ -x "${tmp}/${n}" ]] || die "build produced no ${n}"
		mv -f "${tmp}/${n}" "${dest}/${n}"
		stamp "$n" >"${dest}/.${n}.stamp"
	done
}

build_k8s() {
	local want=() n
	for n in "$@"; do have "$n" || want+=("$n"); done
	((${#want[@]})) || return 0
	local pkgs=() tmp start
	for n in "${want[@]}"; do pkgs+=("./cmd/${n}"); done
	log "building ${want[*]} ${K8S_VERSION} (cold build takes several minutes)…"
	tmp="$(mktemp -d "${K8S_DIR}/.build.XXXXXX")"
	start=$SECONDS
	if ! (cd "${TOOLS_DIR}/k8s" && GOFLAGS=-mod=readonly go build "${K8S_BUILD_FLAGS[@]}" -o "${tmp}/" "${pkgs[@]}"); then
		rm -rf "$tmp"
		die "building ${want[*]} failed"
	fi
	install_from "$tmp" "$K8S_DIR" "${want[@]}"
	rm -rf "$tmp"
	log "built ${want[*]} in $((SECONDS - start))s -> ${K8S_DIR}"
}

build_etcd() {
	have etcd && return 0
	local tmp start
	log "building etcd ${ETCD_VERSION} (cold build takes a minute or two)…"
	tmp="$(mktemp -d "${ETCD_DIR}/.build.XXXXXX")"
	start=$SECONDS
	if ! (cd "${TOOLS_DIR}/etcd" && GOFLAGS=-mod=readonly go build "${GOBUILD_FLAGS[@]}" -o "${tmp}/" ./cmd/etcd); then
		rm -rf "$tmp"
		die "building etcd failed"
	fi
	install_from "$tmp" "$ETCD_DIR" etcd
	rm -rf "$tmp"
	log "built etcd in $((SECONDS - start))s -> ${ETCD_DIR}"
}

kwok_stages_present() {
	local s
	for s in "${KWOK_STAGES[@]}"; do
		[[ -f "${KWOK_DIR}/stages/${s}.yaml" ]] || return 1
	done
}

build_kwok() {
	have kwok && kwok_stages_present && return 0
	local tmp start moddir s f
	tmp="$(mktemp -d "${KWOK_DIR}/.build.XXXXXX")"
	start=$SECONDS
	if ! have kwok; then
		log "building kwok ${KWOK_VERSION} (cold build takes a few minutes)…"
		if ! (cd "$tmp" && GOFLAGS='' GOBIN="$tmp" go install "${GOBUILD_FLAGS[@]}" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"); then
			rm -rf "$tmp"
			die "building kwok failed"
		fi
		install_from "$tmp" "$KWOK_DIR" kwok
	fi
	# The stage files ship in the module; copy the ones the local cluster uses.
	moddir="$(cd "$tmp" && GOFLAGS='' go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	[[ -d "${moddir}/kustomize/stage" ]] || die "kwok module has no kustomize/stage (dir: ${moddir:-?})"
	mkdir -p "${KWOK_DIR}/stages"
	for s in "${KWOK_STAGES[@]}"; do
		case "$s" in
		node-heartbeat-with-lease) f=node/heartbeat-with-lease ;;
		node-*) f=node/fast ;;
		pod-*) f=pod/fast ;;
		esac
		f="${moddir}/kustomize/stage/${f}/${s}.yaml"
		[[ -f "$f" ]] || die "kwok stage file ${f} not found"
		install -m 0644 "$f" "${KWOK_DIR}/stages/${s}.yaml"
	done
	rm -rf "$tmp"
	log "built kwok in $((SECONDS - start))s -> ${KWOK_DIR}"
}

build_staticcheck() {
	have staticcheck && return 0
	local tmp start
	log "building staticcheck ${STATICCHECK_VERSION}…"
	tmp="$(mktemp -d "${STATICCHECK_DIR}/.build.XXXXXX")"
	start=$SECONDS
	if ! (cd "${TOOLS_DIR}/lint" && GOFLAGS=-mod=readonly go build "${GOBUILD_FLAGS[@]}" -o "${tmp}/" honnef.co/go/tools/cmd/staticcheck); then
		rm -rf "$tmp"
		die "building staticcheck failed"
	fi
	install_from "$tmp" "$STATICCHECK_DIR" staticcheck
	rm -rf "$tmp"
	log "built staticcheck in $((SECONDS - start))s -> ${STATICCHECK_DIR}"
}

build_coredns() {
	have coredns && return 0
	local tmp start
	log "building CoreDNS ${COREDNS_VERSION} (cold build takes a couple of minutes)…"
	tmp="$(mktemp -d "${COREDNS_DIR}/.build.XXXXXX")"
	start=$SECONDS
	if ! (cd "${TOOLS_DIR}/coredns" && GOFLAGS=-mod=readonly go build "${GOBUILD_FLAGS[@]}" -o "${tmp}/" ./cmd/coredns); then
		rm -rf "$tmp"
		die "building coredns failed"
	fi
	install_from "$tmp" "$COREDNS_DIR" coredns
	rm -rf "$tmp"
	log "built coredns in $((SECONDS - start))s -> ${COREDNS_DIR}"
}

# release_pkg <tool>: the package a release tool is built from.
release_pkg() {
	case "$1" in
	goreleaser) printf '%s\n' github.com/goreleaser/goreleaser/v2 ;;
	krew) printf '%s\n' sigs.k8s.io/krew/cmd/krew ;;
	validate-krew-manifest) printf '%s\n' sigs.k8s.io/krew/cmd/validate-krew-manifest ;;
	esac
}

build_release_tool() {
	local t="$1" dir tmp start
	have "$t" && return 0
	dir="$(tool_dir "$t")"
	log "building ${t} from hack/tools/release (goreleaser's cold build takes several minutes)…"
	tmp="$(mktemp -d "${dir}/.build.XXXXXX")"
	start=$SECONDS
	if ! (cd "${TOOLS_DIR}/release" && GOFLAGS=-mod=readonly go build "${GOBUILD_FLAGS[@]}" -o "${tmp}/${t}" "$(release_pkg "$t")"); then
		rm -rf "$tmp"
		die "building ${t} failed"
	fi
	install_from "$tmp" "$dir" "$t"
	rm -rf "$tmp"
	log "built ${t} in $((SECONDS - start))s -> ${dir}"
}

main() {
	local print_dir=0 args=()
	while (($#)); do
		case "$1" in
		--print-dir) print_dir=1 ;;
		-h | --help)
			sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
			return 0
			;;
		-*) die "unknown flag $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	((${#args[@]})) || args=(k8s etcd kwok staticcheck)

	# Expand groups into individual tools, keeping order and dropping repeats.
	local tools=() t e seen=" "
	for t in "${args[@]}"; do
		local expanded=()
		case "$t" in
		k8s) expanded=("${K8S_DEFAULT[@]}") ;;
		all) expanded=("${K8S_ALL[@]}" etcd kwok staticcheck coredns goreleaser krew validate-krew-manifest) ;;
		release) expanded=(goreleaser krew validate-krew-manifest) ;;
		kube-apiserver | kube-scheduler | kube-controller-manager | kubectl | kubelet | kube-proxy | etcd | kwok | staticcheck | coredns | goreleaser | krew | validate-krew-manifest) expanded=("$t") ;;
		*) die "unknown tool '$t' (want k8s, kube-apiserver, kube-scheduler, kube-controller-manager, kubectl, kubelet, kube-proxy, etcd, kwok, staticcheck, coredns, goreleaser, krew, validate-krew-manifest, release or all)" ;;
		esac
		for e in "${expanded[@]}"; do
			[[ "$seen" == *" $e "* ]] && continue
			seen+="$e "
			tools+=("$e")
		done
	done

	if ((print_dir)); then
		for t in "${tools[@]}"; do printf '%s %s\n' "$t" "$(tool_dir "$t")"; done
		return 0
	fi

	command -v go >/dev/null || die "go is not on PATH"

	# All requested k8s binaries are built by one go build so that shared
	# packages compile once.
	local k8s=() rest=()
	for t in "${tools[@]}"; do
		case "$t" in
		kube-* | kubectl | kubelet) k8s+=("$t") ;;
		*) rest+=("$t") ;;
		esac
	done
	if ((${#k8s[@]})); then with_lock "$K8S_DIR" build_k8s "${k8s[@]}"; fi
	for t in "${rest[@]}"; do
		case "$t" in
		etcd) with_lock "$ETCD_DIR" build_etcd ;;
		kwok) with_lock "$KWOK_DIR" build_kwok ;;
		staticcheck) with_lock "$STATICCHECK_DIR" build_staticcheck ;;
		coredns) with_lock "$COREDNS_DIR" build_coredns ;;
		goreleaser | krew | validate-krew-manifest) with_lock "$(tool_dir "$t")" build_release_tool "$t" ;;
		esac
	done
}

main "$@"
