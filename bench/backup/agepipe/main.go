// Command agepipe is the baseline of the backup benchmark: what the age
// CLI does (`age -r KEY` / `age -d -i FILE`), with the same library calctl
// uses, so `pg_dump -Fc | agepipe -r KEY > file` measures plain
// pg_dump-plus-encryption on this machine without the age CLI installed.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agepipe:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: agepipe -r RECIPIENT | -d IDENTITY_FILE  (stdin to stdout)")
	}
	out := bufio.NewWriterSize(os.Stdout, 256<<10)
	in := bufio.NewReaderSize(os.Stdin, 256<<10)
	switch os.Args[1] {
	case "-r":
		r, err := age.ParseX25519Recipient(os.Args[2])
		if err != nil {
			return err
		}
		w, err := age.Encrypt(out, r)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	case "-d":
		f, err := os.Open(os.Args[2])
		if err != nil {
			return err
		}
		ids, err := age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return err
		}
		r, err := age.Decrypt(in, ids...)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown mode %s", os.Args[1])
	}
	return out.Flush()
}
