# Sourced by hack/demo.sh after 10-shop.yaml is applied. The demo cluster's
# nodes are kwok nodes, which run no containers, so the live probe cannot run
# there: the demo shows the explanations (--no-probe), which read the same
# objects the probe's verdict is joined with.
kc wait --for=condition=Ready pod --all -n nc-shop --timeout=60s >/dev/null
kc wait --for=condition=Ready pod --all -n nc-other --timeout=60s >/dev/null
echo "The live probe needs a node that runs containers; the demo's kwok nodes do not,"
echo "so these runs use --no-probe (explain from the cluster's objects, change nothing)."
run kubectl-netcheck -n nc-shop frontend svc/api:80 --no-probe
run kubectl-netcheck -n nc-shop frontend db --port 5432 --no-probe
run kubectl-netcheck nc-other/intruder nc-shop/api --port 8080 --no-probe
run kubectl-netcheck -n nc-shop frontend svc/api-typo:80 --no-probe
run kubectl-netcheck -n nc-shop frontend svc/api-wrong-port --no-probe
run kubectl-netcheck -n nc-shop frontend api.nc-shop:80 --no-probe -o wide

# CI: the same questions answered from manifests (ci/) before they reach a
# cluster; examples/netcheck/ci/change/ is a pull request that breaks one.
run kubectl-netcheck -n nc-ci -f "${EXAMPLES}/ci/manifests/" --expect "${EXAMPLES}/ci/netcheck-expect.yaml"
run kubectl-netcheck -f "${EXAMPLES}/ci/manifests/" --matrix
run kubectl-netcheck --cluster-state "${EXAMPLES}/ci/manifests/app.yaml" -f "${EXAMPLES}/ci/change/" --matrix

# The live probe, on a real node when this host can run one (hack/real-node:
# kubelet, containerd, CNI bridge, kube-proxy, CoreDNS).
if why="$("${ROOT}/hack/real-node" check 2>&1)"; then
	bold "kubectl netcheck with the live probe (hack/real-node)"
	(
		eval "$("${ROOT}/hack/real-node" up)"
		export KUBECONFIG
		rkc() { "$KTRIAGE_KUBECTL" "$@"; }
		rkc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: nc-live}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: nc-live, labels: {app: web}}
spec:
  containers:
  - name: httpd
    image: ${KTRIAGE_BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh, -c, 'mkdir -p /tmp/www && echo ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: nc-live}
spec:
  containers: [{name: sleep, image: ${KTRIAGE_BUSYBOX_IMAGE}, imagePullPolicy: Never, command: [sleep, "86400"]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: nc-live}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
YAML
		rkc wait -n nc-live --for=condition=Ready pod --all --timeout=90s >/dev/null
		# A new Service answers once kube-proxy has programmed it, a moment
		# after its endpoint is ready; its rules apply to the host too.
		ip="$(rkc get service web -n nc-live -o 'jsonpath={.spec.clusterIP}')"
		for _ in $(seq 1 60); do
			timeout 1 bash -c "exec 3<>/dev/tcp/${ip}/80" 2>/dev/null && break
			sleep 0.5
		done
		probe=(--image "$KTRIAGE_PROBE_IMAGE" --image-pull-policy Never)
		run kubectl-netcheck -n nc-live client web:80 --protocol http "${probe[@]}"
		run kubectl-netcheck -n nc-live client web --port 8081 "${probe[@]}"
		run kubectl-netcheck -n nc-live client nosuch:80 "${probe[@]}"
		echo
		echo "The real node keeps running: KUBECONFIG=$KUBECONFIG; remove it with hack/real-node down"
	)
else
	echo
	echo "The live probe is not shown: this host cannot run a real node (${why})."
fi
