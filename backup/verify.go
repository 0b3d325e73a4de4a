package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/docker/docker/client"

	"github.com/calctl/calctl/backup/archive"
	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/backup/pgtool"
	"github.com/calctl/calctl/backup/scratchdb"
)

// VerifyOptions configure a restore drill.
type VerifyOptions struct {
	// Identities open the backup.
	Identities []age.Identity
	// HistoryDir is the install whose history records the drill ("": the
	// manifest's install dir when it still holds an install; none else).
	HistoryDir string
	// Scratch forces where the dump is restored: "container", "local" or
	// "" (a container of the bundled image when Docker has it, else local).
	Scratch string
	// Say receives progress lines.
	Say func(format string, a ...any)
}

// VerifyResult is a drill's outcome.
type VerifyResult struct {
	// File is the absolute path of the backup drilled.
	File string `json:"file"`
	// OK is true when every hash matched, the dump restored and every table's
	// row count equals the manifest's.
	OK bool `json:"ok"`
	// Scratch is where the dump was restored, as scratchdb reports it
	// ("container <name> (<image>)" or "a local cluster (<bin dir>)"); empty
	// when the drill stopped before.
	Scratch string `json:"scratch"`
	// Seconds is how long the drill took (wall clock, in seconds), failed ones
	// included.
	Seconds float64 `json:"seconds"`
	// Manifest is the backup's manifest once every member's hash checked; nil
	// when the file could not be opened, decrypted or checked.
	Manifest *archive.Manifest `json:"manifest"`
	// Mismatches are tables whose restored rows differ from the manifest.
	Mismatches []string `json:"mismatches,omitempty"`
}

// Check decrypts the whole backup and checks every member's size and
// SHA-256 against its manifest, keeping the small install files.
func Check(path string, ids []age.Identity) (*archive.Manifest, map[string][]byte, error) {
	files := map[string][]byte{}
	m, err := archive.Read(path, ids, func(name string, body io.Reader) error {
		if strings.HasPrefix(name, MemberPrefix) {
			b, err := io.ReadAll(io.LimitReader(body, 16<<20))
			if err != nil {
				return err
			}
			files[strings.TrimPrefix(name, MemberPrefix)] = b
		}
		return nil
	})
	return m, files, err
}

// Verify is a restore drill: it checks the backup's hashes, restores its
// dump into a throwaway PostgreSQL, compares every table's row count with
// the manifest and removes the scratch database. The drill is recorded in
// the install's history (BK-005's evidence).
func Verify(ctx context.Context, path string, o VerifyOptions) (res *VerifyResult, err error) {
	say := o.Say
	if say == nil {
		say = func(string, ...any) {}
	}
	start := time.Now()
	abs, _ := filepath.Abs(path)
	res = &VerifyResult{File: abs}
	defer func() {
		res.Seconds = time.Since(start).Seconds()
		dir := o.HistoryDir
		if dir == "" && res.Manifest != nil && res.Manifest.InstallDir != "" {
			if _, serr := os.Stat(filepath.Join(res.Manifest.InstallDir, ".env")); serr == nil {
				dir = res.Manifest.InstallDir
			}
		}
		if dir == "" {
			return
		}
		ev := history.Event{Kind: history.KindVerify, Result: history.ResultOK, File: abs, Seconds: res.Seconds, Encrypted: true}
		if size, sum, serr := fileSum(abs); serr == nil {
			ev.Size, ev.SHA256 = size, sum
		}
		if err != nil {
			ev.Result, ev.Error = history.ResultFailed, oneLine(err)
		} else {
			ev.Tables, ev.Rows = len(res.Manifest.Tables), totalRows(res.Manifest.Tables)
		}
		if herr := history.Append(dir, ev); herr != nil && err == nil {
			err = herr
		}
	}()
	say("checking every member's SHA-256")
	m, _, err := Check(path, o.Identities)
	if err != nil {
		return res, err
	}
	res.Manifest = m
	db, err := startScratch(ctx, m, o.Scratch)
	if err != nil {
		return res, err
	}
	defer db.Close()
	res.Scratch = db.Where
	say("restoring the dump into %s", db.Where)
	if _, err := archive.Read(path, o.Identities, func(name string, body io.Reader) error {
		if name != archive.DumpName {
			return nil
		}
		if err := pgtool.Restore(ctx, db.Runner, db.Tools, false, body); err != nil {
			return fmt.Errorf("pg_restore into %s: %w", db.Where, err)
		}
		return nil
	}); err != nil {
		return res, err
	}
	conn, err := db.Connect(ctx)
	if err != nil {
		return res, fmt.Errorf("scratch database: %w", err)
	}
	got, err := pgtool.Counts(ctx, conn)
	conn.Close(ctx)
	if err != nil {
		return res, err
	}
	res.Mismatches = CompareCounts(m.Tables, got)
	if len(res.Mismatches) > 0 {
		return res, fmt.Errorf("restored row counts differ from the manifest: %s", strings.Join(res.Mismatches, ", "))
	}
	res.OK = true
	return res, nil
}

// CompareCounts lists the tables whose counts differ (or that one side
// lacks), as "table: want N, got M".
func CompareCounts(want []archive.TableCount, got []pgtool.Table) []string {
	diff, extra := compareCounts(want, got)
	return append(diff, extra...)
}

// compareCounts splits the differences: tables of the manifest that are
// missing or differ, and tables the manifest does not know.
func compareCounts(want []archive.TableCount, got []pgtool.Table) (diff, extra []string) {
	g := map[string]int64{}
	for _, t := range got {
		g[t.Name] = t.Rows
	}
	for _, t := range want {
		n, ok := g[t.Table]
		switch {
		case !ok:
			diff = append(diff, fmt.Sprintf("%s: want %d rows, table missing", t.Table, t.Rows))
		case n != t.Rows:
			diff = append(diff, fmt.Sprintf("%s: want %d rows, got %d", t.Table, t.Rows, n))
		}
		delete(g, t.Table)
	}
	for name, n := range g {
		extra = append(extra, fmt.Sprintf("%s (%d rows)", name, n))
	}
	sort.Strings(extra)
	return diff, extra
}

func startScratch(ctx context.Context, m *archive.Manifest, mode string) (*scratchdb.DB, error) {
	var why []string
	if mode != "local" && m.Database.Image != "" {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err == nil {
			if _, err = cli.ImageInspect(ctx, m.Database.Image); err == nil {
				db, err := scratchdb.StartContainer(ctx, cli, m.Database.Image)
				if err == nil {
					return db, nil
				}
				why = append(why, err.Error())
			} else {
				why = append(why, fmt.Sprintf("image %s: %v", m.Database.Image, err))
			}
		} else {
			why = append(why, err.Error())
		}
		if mode == "container" {
			return nil, fmt.Errorf("no scratch container: %s", strings.Join(why, "; "))
		}
	} else if mode == "container" {
		return nil, errors.New("no scratch container: the backup names no database image (an external database); use --scratch local")
	}
	bin, err := pgtool.FindLocal(ctx, m.Database.ServerMajor)
	if err != nil {
		why = append(why, err.Error())
		return nil, fmt.Errorf("no throwaway PostgreSQL to restore into: %s", strings.Join(why, "; "))
	}
	return scratchdb.StartLocal(ctx, bin)
}
