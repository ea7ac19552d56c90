// verify_go checks Defter's cosigned checkpoints and tlog-proofs with Go's
// golang.org/x/mod/sumdb/note and sumdb/tlog (Debian golang-golang-x-mod-dev), written from the
// C2SP texts: a custom note.Verifier for tlog-cosignature/v1 keys (type 0x04). Shares no code
// with Defter.
//
//	verify_go note LOGVKEY WVKEY[,WVKEY...] MIN < cosigned-checkpoint
//	verify_go proof LOGVKEY WVKEY[,WVKEY...] MIN LEAFHASH < tlog-proof
//
// Exit 0 when the log signature and at least MIN witness cosignatures verify (and, for proof,
// the inclusion proof binds LEAFHASH to the checkpoint's root).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type cosigV1 struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosigV1) Name() string    { return v.name }
func (v *cosigV1) KeyHash() uint32 { return v.hash }

// Verify: sig = 8-byte big-endian time || Ed25519 signature over
// "cosignature/v1\ntime T\n" || note text.
func (v *cosigV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t == 0 || t >= 1<<63 {
		return false
	}
	m := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, m, sig[8:])
}

func newCosigVerifier(vkey string) (*cosigV1, error) {
	i := strings.Index(vkey, "+")
	j := strings.Index(vkey[i+1:], "+")
	if i < 0 || j < 0 {
		return nil, errors.New("bad vkey")
	}
	name, hexID, b64 := vkey[:i], vkey[i+1:i+1+j], vkey[i+2+j:]
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return nil, errors.New("not a cosignature/v1 key")
	}
	h := sha256.Sum256(append([]byte(name+"\n"), raw...))
	id := binary.BigEndian.Uint32(h[:4])
	want, err := strconv.ParseUint(hexID, 16, 32)
	if err != nil || uint32(want) != id {
		return nil, errors.New("key id mismatch")
	}
	return &cosigV1{name: name, hash: id, key: ed25519.PublicKey(raw[1:])}, nil
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	os.Exit(1)
}

// checkNote opens msg and returns its text after counting verified signatures.
func checkNote(msg []byte, logVkey, wvkeys string, min int) string {
	logV, err := note.NewVerifier(logVkey)
	if err != nil {
		fail("log vkey: %v", err)
	}
	vs := []note.Verifier{logV}
	for _, k := range strings.Split(wvkeys, ",") {
		v, err := newCosigVerifier(k)
		if err != nil {
			fail("witness vkey %q: %v", k, err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		fail("note.Open: %v", err)
	}
	logOK, cos := false, 0
	for _, s := range n.Sigs {
		if s.Name == logV.Name() && s.Hash == logV.KeyHash() {
			logOK = true
		} else {
			cos++
		}
	}
	if !logOK {
		fail("no log signature")
	}
	if cos < min {
		fail("%d cosignatures verified, want %d", cos, min)
	}
	fmt.Printf("ok go: log signature and %d cosignatures\n", cos)
	return n.Text
}

func main() {
	in, _ := io.ReadAll(os.Stdin)
	if len(os.Args) < 5 {
		fail("usage")
	}
	min, _ := strconv.Atoi(os.Args[4])
	switch os.Args[1] {
	case "note":
		checkNote(in, os.Args[2], os.Args[3], min)
	case "proof":
		lines := strings.SplitAfter(string(in), "\n")
		if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1\n" || !strings.HasPrefix(lines[1], "index ") {
			fail("not a tlog-proof@v1")
		}
		index, err := strconv.ParseInt(strings.TrimSpace(lines[1][6:]), 10, 64)
		if err != nil {
			fail("bad index")
		}
		var proof tlog.RecordProof
		i := 2
		for ; i < len(lines) && lines[i] != "\n"; i++ {
			h, err := tlog.ParseHash(strings.TrimSuffix(lines[i], "\n"))
			if err != nil {
				fail("bad proof hash")
			}
			proof = append(proof, h)
		}
		ck := []byte(strings.Join(lines[i+1:], ""))
		text := checkNote(ck, os.Args[2], os.Args[3], min)
		parts := strings.Split(text, "\n")
		size, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			fail("bad size")
		}
		root, err := tlog.ParseHash(parts[2])
		if err != nil {
			fail("bad root")
		}
		leaf, err := tlog.ParseHash(os.Args[5])
		if err != nil {
			fail("bad leaf hash")
		}
		if err := tlog.CheckRecord(proof, size, root, index, leaf); err != nil {
			fail("inclusion: %v", err)
		}
		if !bytes.HasPrefix(ck, []byte(text)) {
			fail("text")
		}
		fmt.Printf("ok go: leaf %d included in the cosigned tree of size %d\n", index, size)
	default:
		fail("unknown mode")
	}
}
