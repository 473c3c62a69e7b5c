package csvin

import (
	"strconv"
	"strings"
)

// RowError is a problem at a place in an input file. Error prints it on one line as
// "file:line:column: what is wrong; what to do", leaving out a line or column of 0, so that
// editors and terminals can jump to it.
type RowError struct {
	// File is the path as the user gave it ("stdin" for standard input, "--to" or "--text"
	// for values given as flags).
	File string
	// Line counts from 1 (the header); 0 when the problem concerns the whole file.
	Line int
	// Column is the 1-based byte position in the line (of the UTF-8 text, after --charset
	// conversion); 0 when the problem concerns the whole line.
	Column int
	Err    error
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	// A message is one line even when a cell it quotes was not.
	b.WriteString(strings.ReplaceAll(e.Err.Error(), "\n", `\n`))
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }
