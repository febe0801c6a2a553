// Command cri-cleanup stops and removes every pod sandbox (and so every
// container) a CRI runtime holds, through the CRI itself so that the runtime
// runs the CNI DEL that frees each pod's address and network namespace.
// hack/real-node runs it before it stops containerd.
//
//	cri-cleanup -endpoint /var/lib/ktrn/NAME/c.sock
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	endpoint := flag.String("endpoint", "", "path of the runtime's unix socket")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "cri-cleanup: -endpoint is required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	n, err := cleanup(ctx, *endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cri-cleanup:", err)
		os.Exit(1)
	}
	fmt.Printf("removed %d pod sandbox(es)\n", n)
}

func cleanup(ctx context.Context, endpoint string) (int, error) {
	conn, err := grpc.NewClient("unix://"+endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	rt := runtime.NewRuntimeServiceClient(conn)
	list, err := rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		return 0, fmt.Errorf("listing pod sandboxes: %w", err)
	}
	var failed []error
	for _, sb := range list.Items {
		if _, err := rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			failed = append(failed, fmt.Errorf("stopping %s/%s: %w", sb.Metadata.GetNamespace(), sb.Metadata.GetName(), err))
			continue
		}
		if _, err := rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			failed = append(failed, fmt.Errorf("removing %s/%s: %w", sb.Metadata.GetNamespace(), sb.Metadata.GetName(), err))
		}
	}
	if len(failed) > 0 {
		return len(list.Items) - len(failed), fmt.Errorf("%d of %d sandboxes left: %v", len(failed), len(list.Items), failed)
	}
	return len(list.Items), nil
}
