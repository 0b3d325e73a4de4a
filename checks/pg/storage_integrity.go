package pg

import "github.com/calctl/calctl/checks"

// StorageIntegrity is PG-010: fsync, full_page_writes and data checksums.
var StorageIntegrity = checks.New(checks.Meta{
	ID: "PG-010", Title: "Storage integrity", Severity: checks.High, Needs: needPG,
	Remediation: "Turn fsync and full_page_writes on; enable checksums offline with `pg_checksums --enable`.",
}, func(f *checks.Facts) []checks.Finding {
	fs, _ := setting(f, "fsync")
	fpw, _ := setting(f, "full_page_writes")
	dc, _ := setting(f, "data_checksums")
	var is checks.Issues
	if !on(fs) {
		is.Add(checks.Fail, "fsync is off: a crash can corrupt the database")
	}
	if !on(fpw) {
		is.Add(checks.Fail, "full_page_writes is off")
	}
	if !on(dc) {
		is.Add(checks.Warn, "data_checksums is off: silent corruption goes undetected")
	}
	return []checks.Finding{is.Finding(resource(f), "fsync, full_page_writes and data checksums are on",
		checks.Ev("fsync", fs, "full_page_writes", fpw, "data_checksums", dc))}
})
