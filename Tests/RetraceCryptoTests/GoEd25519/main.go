// Verifies every case of spec/vectors/ed25519-edge-cases.json with Go's crypto/ed25519, an
// implementation nobody on this project wrote, and prints one line per case: its name, a tab, and
// V (accepted) or X (refused). Keys or signatures of the wrong length are refused here (Go's
// Verify would panic on them). Run by Ed25519EdgeCaseTests with GO111MODULE=off.
package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

type vectorFile struct {
	Cases []struct {
		Name      string `json:"name"`
		Message   string `json:"message"`
		PublicKey string `json:"publicKey"`
		Signature string `json:"signature"`
	} `json:"cases"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: main VECTORS.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var file vectorFile
	if err := json.Unmarshal(data, &file); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, c := range file.Cases {
		message, err1 := hex.DecodeString(c.Message)
		key, err2 := hex.DecodeString(c.PublicKey)
		signature, err3 := hex.DecodeString(c.Signature)
		verdict := "X"
		if err1 == nil && err2 == nil && err3 == nil && len(key) == ed25519.PublicKeySize &&
			len(signature) == ed25519.SignatureSize && ed25519.Verify(ed25519.PublicKey(key), message, signature) {
			verdict = "V"
		}
		fmt.Printf("%s\t%s\n", c.Name, verdict)
	}
}
