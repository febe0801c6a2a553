// Command mkimage writes a one-layer container image as a docker archive
// (what `ctr images import` reads) from files on the host, so the real-node
// test cluster needs no registry:
//
//	mkimage -o probe.tar -tag ktriage.local/netcheck-probe:dev -user 65532 \
//	  -entrypoint /netcheck-probe bin/netcheck-probe:/netcheck-probe
//
// Arguments are SRC:DST files (copied, mode kept) and DST->TARGET symlinks.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "", "output archive")
	tag := flag.String("tag", "", "image name:tag (comma-separated for several)")
	user := flag.String("user", "", "user to run as (numeric)")
	entrypoint := flag.String("entrypoint", "", "comma-separated entrypoint")
	flag.Parse()
	if *out == "" || *tag == "" {
		fmt.Fprintln(os.Stderr, "mkimage: -o and -tag are required")
		os.Exit(2)
	}
	if err := build(*out, *tag, *user, *entrypoint, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func build(out, tag, user, entrypoint string, items []string) error {
	layer, err := layerTar(items)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config": map[string]any{
			"User":       user,
			"Entrypoint": splitNonEmpty(entrypoint),
			"Env":        []string{"PATH=/bin:/usr/bin"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgSum := sha256.Sum256(cfgJSON)
	cfgName := hex.EncodeToString(cfgSum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": splitNonEmpty(tag), "Layers": []string{"layer.tar"}}})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{"layer.tar", layer}, {cfgName, cfgJSON}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func splitNonEmpty(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// layerTar builds the filesystem layer: parent directories, files, symlinks
// and a world-writable /tmp.
func layerTar(items []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{"tmp": true, "etc": true, "dev": true, "proc": true, "sys": true}
	type entry struct {
		dst, src, link string
	}
	var entries []entry
	for _, it := range items {
		if dst, target, ok := strings.Cut(it, "->"); ok {
			entries = append(entries, entry{dst: strings.TrimPrefix(dst, "/"), link: target})
			continue
		}
		src, dst, ok := strings.Cut(it, ":")
		if !ok {
			return nil, fmt.Errorf("%q: want SRC:DST or DST->TARGET", it)
		}
		entries = append(entries, entry{dst: strings.TrimPrefix(dst, "/"), src: src})
	}
	for _, e := range entries {
		for d := path.Dir(e.dst); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: mode, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		if e.link != "" {
			if err := tw.WriteHeader(&tar.Header{Name: e.dst, Linkname: e.link, Typeflag: tar.TypeSymlink, Mode: 0o777}); err != nil {
				return nil, err
			}
			continue
		}
		data, err := os.ReadFile(e.src)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(e.src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.dst, Mode: int64(st.Mode().Perm()), Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
