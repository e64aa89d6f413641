package e2e

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// recordMarker starts every record the guest writes.
const recordMarker = "@@KLPC "

// Record is one framed line of the guest's results.
type Record struct {
	// Scenario is the scenario's index in the Run call, or -1 for records
	// about the whole guest (the boot command line, the end record).
	Scenario int
	// Phase is "pre" (after the preloads), "post" (after the cleanup), a step
	// number from "1", or "-" for records about the whole guest.
	Phase string
	// Key says what the value is, such as "rc", "dmesg" or "src:cmdline".
	Key string
	// Value is the decoded value.
	Value string
}

// ParseSerial extracts the records from the guest's serial output. Lines
// without the marker are skipped, and a record may follow other text on its
// line (a kernel message that was being printed when the record was
// written); the record then runs to the end of the line.
//
// complete reports that the end record was found and that the number of
// records before it matches the count it carries: nothing was lost. err
// describes malformed lines and a mismatched count; the records that could
// be read are returned either way.
func ParseSerial(data []byte) (recs []Record, complete bool, err error) {
	var errs []error
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		at := bytes.Index(line, []byte(recordMarker))
		if at < 0 {
			continue
		}
		rec, perr := parseRecord(string(line[at+len(recordMarker):]))
		if perr != nil {
			errs = append(errs, fmt.Errorf("serial line %d: %w", lineNo, perr))
			continue
		}
		if rec.Scenario == -1 && rec.Key == "end" {
			want, cerr := strconv.Atoi(rec.Value)
			switch {
			case cerr != nil:
				errs = append(errs, fmt.Errorf("serial line %d: end record with count %q", lineNo, rec.Value))
			case want != len(recs):
				errs = append(errs, fmt.Errorf("serial line %d: guest wrote %d records, %d arrived intact", lineNo, want, len(recs)))
			default:
				complete = true
			}
			continue
		}
		recs = append(recs, rec)
	}
	return recs, complete, errors.Join(errs...)
}

// parseRecord parses the text after the marker:
// "<scenario> <phase> <key> <base64 value or ->".
func parseRecord(s string) (Record, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return Record{}, fmt.Errorf("record %q: want 4 fields, have %d", clip(s), len(f))
	}
	var rec Record
	if f[0] == "-" {
		rec.Scenario = -1
	} else {
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 0 || strconv.Itoa(n) != f[0] {
			return Record{}, fmt.Errorf("record %q: bad scenario %q", clip(s), f[0])
		}
		rec.Scenario = n
	}
	switch {
	case f[1] == "-" || f[1] == "pre" || f[1] == "post":
	default:
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 1 || strconv.Itoa(n) != f[1] {
			return Record{}, fmt.Errorf("record %q: bad phase %q", clip(s), f[1])
		}
	}
	if (rec.Scenario == -1) != (f[1] == "-") {
		return Record{}, fmt.Errorf("record %q: scenario and phase disagree", clip(s))
	}
	rec.Phase = f[1]
	for _, c := range f[2] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':') {
			return Record{}, fmt.Errorf("record %q: bad key %q", clip(s), f[2])
		}
	}
	rec.Key = f[2]
	if f[3] != "-" {
		v, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil {
			return Record{}, fmt.Errorf("record %q: bad value: %v", clip(s), err)
		}
		rec.Value = string(v)
	}
	return rec, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
