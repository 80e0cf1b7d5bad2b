// Command gocheck reads a Retrace tiles folder with golang.org/x/mod/sumdb/tlog and
// golang.org/x/mod/sumdb/note, an implementation of tiles and signed notes written by others,
// and exits non-zero unless everything holds:
//
//   - the checkpoint verifies as a signed note under the given verifier key and names the origin;
//   - the root recomputed from the entry bundles equals the checkpoint's root;
//   - every hash tile in the folder equals the tile recomputed from those entries
//     (Debian's x/mod does not authenticate every tile its TileHashReader returns, so tiles are
//     also compared with independently recomputed hashes);
//   - inclusion proofs for sampled entries and consistency proofs from sampled sizes, built by
//     TileHashReader from the folder's tiles, check against the signed root.
//
// Usage: gocheck FOLDER VERIFIER-KEY ORIGIN
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type folderTiles struct{ dir string }

func (f folderTiles) Height() int { return 8 }

// C2SP tlog-tiles paths omit the height that x/mod's Tile.Path puts after "tile/".
func (f folderTiles) path(t tlog.Tile) string {
	return filepath.Join(f.dir, strings.Replace(t.Path(), "tile/8/", "tile/", 1))
}

func (f folderTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(f.path(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (f folderTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gocheck: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: gocheck FOLDER VERIFIER-KEY ORIGIN")
	}
	dir, vkey, origin := os.Args[1], os.Args[2], os.Args[3]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != origin {
		fail("checkpoint body %q does not start with origin %q", n.Text, origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size <= 0 {
		fail("checkpoint size %q", lines[1])
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)

	// Entries from the entry bundles; every stored hash recomputed from them.
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	var leaves []tlog.Hash
	for start := int64(0); start < size; start += 256 {
		width := size - start
		name := filepath.Join(dir, "tile", "entries", strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: start / 256, W: 256}.Path(), "tile/8/0/"))
		if width < 256 {
			name = filepath.Join(dir, "tile", "entries", strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: start / 256, W: int(width)}.Path(), "tile/8/0/"))
		} else {
			width = 256
		}
		bundle, err := os.ReadFile(name)
		if err != nil {
			fail("%v", err)
		}
		for i := int64(0); i < width; i++ {
			if len(bundle) < 2 {
				fail("%s ends early at entry %d", name, i)
			}
			length := int(bundle[0])<<8 | int(bundle[1])
			if len(bundle) < 2+length {
				fail("%s: entry %d is cut", name, i)
			}
			entry := bundle[2 : 2+length]
			bundle = bundle[2+length:]
			index := start + i
			hashes, err := tlog.StoredHashes(index, entry, reader)
			if err != nil {
				fail("stored hashes of %d: %v", index, err)
			}
			stored = append(stored, hashes...)
			leaves = append(leaves, tlog.RecordHash(entry))
		}
		if len(bundle) != 0 {
			fail("%s has %d bytes after its entries", name, len(bundle))
		}
	}
	computed, err := tlog.TreeHash(size, reader)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if computed != root {
		fail("root recomputed from the entry bundles %v differs from the checkpoint's %v", computed, root)
	}

	// Every hash tile of the folder against the recomputed hashes.
	tiles := 0
	err = filepath.Walk(filepath.Join(dir, "tile"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.HasPrefix(rel, "tile/entries/") {
			return nil
		}
		t, err := tlog.ParseTilePath(strings.Replace(rel, "tile/", "tile/8/", 1))
		if err != nil {
			return fmt.Errorf("%s is not a tile path: %v", rel, err)
		}
		want, err := tlog.ReadTileData(t, reader)
		if err != nil {
			return fmt.Errorf("%s: %v", rel, err)
		}
		have, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(want, have) {
			return fmt.Errorf("%s differs from the tile recomputed from the entries", rel)
		}
		tiles++
		return nil
	})
	if err != nil {
		fail("%v", err)
	}

	// Proofs built from the folder's tiles by x/mod, checked against the signed root.
	thr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, folderTiles{dir})
	proofs := 0
	for _, i := range []int64{0, 1, size / 3, size / 2, size - 2, size - 1} {
		if i < 0 || i >= size {
			continue
		}
		proof, err := tlog.ProveRecord(size, i, thr)
		if err != nil {
			fail("inclusion proof of %d from tiles: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, size, root, i, leaves[i]); err != nil {
			fail("inclusion proof of %d does not check: %v", i, err)
		}
		proofs++
	}
	for _, m := range []int64{1, size / 2, size - 1} {
		if m <= 0 || m >= size {
			continue
		}
		proof, err := tlog.ProveTree(size, m, thr)
		if err != nil {
			fail("consistency proof %d→%d from tiles: %v", m, size, err)
		}
		old, err := tlog.TreeHash(m, reader)
		if err != nil {
			fail("%v", err)
		}
		if err := tlog.CheckTree(proof, size, root, m, old); err != nil {
			fail("consistency proof %d→%d does not check: %v", m, size, err)
		}
		proofs++
	}
	fmt.Printf("gocheck: size %d, %d hash tiles equal, %d proofs checked\n", size, tiles, proofs)
}
