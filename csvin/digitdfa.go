package csvin

import (
	"errors"
	"regexp/syntax"
	"slices"
)

// digitDFA answers "does this regular expression match this string of ASCII digits" with one
// table lookup per digit. libphonenumber's metadata describes number ranges as regular
// expressions, and Go's backtracking regexp takes microseconds per number for them, which is
// most of the time a million-row plan would spend. The automaton is built lazily by subset
// construction from the compiled regexp program, so it accepts exactly the strings the
// expression matches; it is not safe for concurrent use.
type digitDFA struct {
	prog   *syntax.Prog
	states []dfaState
	index  map[string]int32 // sorted instruction set → state
	start  int32
}

type dfaState struct {
	next   [10]int32 // the state after each digit; unknown until first needed
	accept bool      // the set holds the match instruction
	insts  []uint32  // the consuming and match instructions the state stands for
}

const (
	dfaUnknown int32 = -1
	dfaDead    int32 = 0 // the empty set: no continuation can match
	// dfaMaxStates bounds the memory one expression may take; past it, callers fall back to
	// the regexp engine (no metadata expression comes close).
	dfaMaxStates = 1 << 14
)

// errDFATooBig means the expression needs more states than dfaMaxStates.
var errDFATooBig = errors.New("automaton too large")

// errDFAUnsupported means the expression uses assertions (^, $, \b) an automaton over digits
// does not model; callers use the regexp engine for it.
var errDFAUnsupported = errors.New("assertions are not supported")

// newDigitDFA compiles pattern (Perl syntax, as regexp.Compile takes it, without anchors).
func newDigitDFA(pattern string) (*digitDFA, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth {
			return nil, errDFAUnsupported
		}
	}
	d := &digitDFA{prog: prog, index: make(map[string]int32)}
	d.add(nil) // dfaDead
	d.start, err = d.add(d.closure([]uint32{uint32(prog.Start)}))
	if err != nil {
		return nil, err
	}
	return d, nil
}

// closure follows the non-consuming instructions from pcs and returns the sorted set of
// consuming and match instructions reached.
func (d *digitDFA) closure(pcs []uint32) []uint32 {
	var out []uint32
	seen := make(map[uint32]bool)
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		}
		// InstFail leads nowhere; InstEmptyWidth was rejected by newDigitDFA.
	}
	slices.Sort(out)
	return out
}

// add returns the state for the instruction set insts, creating it when new.
func (d *digitDFA) add(insts []uint32) (int32, error) {
	key := make([]byte, 0, 4*len(insts))
	for _, pc := range insts {
		key = append(key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if s, ok := d.index[string(key)]; ok {
		return s, nil
	}
	if len(d.states) >= dfaMaxStates {
		return dfaDead, errDFATooBig
	}
	st := dfaState{insts: insts}
	for i := range st.next {
		st.next[i] = dfaUnknown
	}
	for _, pc := range insts {
		if d.prog.Inst[pc].Op == syntax.InstMatch {
			st.accept = true
		}
	}
	if len(d.states) == int(dfaDead) {
		for i := range st.next {
			st.next[i] = dfaDead
		}
	}
	s := int32(len(d.states))
	d.states = append(d.states, st)
	d.index[string(key)] = s
	return s, nil
}

// step returns the state after digit (0–9) from state s.
func (d *digitDFA) step(s int32, digit byte) (int32, error) {
	if n := d.states[s].next[digit]; n != dfaUnknown {
		return n, nil
	}
	r := rune('0' + digit)
	var targets []uint32
	for _, pc := range d.states[s].insts {
		in := &d.prog.Inst[pc]
		if in.Op != syntax.InstMatch && in.MatchRune(r) {
			targets = append(targets, in.Out)
		}
	}
	n, err := d.add(d.closure(targets))
	if err != nil {
		return dfaDead, err
	}
	d.states[s].next[digit] = n
	return n, nil
}

// full reports whether the expression matches all of digits (ASCII '0'–'9' only).
func (d *digitDFA) full(digits string) (bool, error) {
	s := d.start
	for i := 0; i < len(digits); i++ {
		var err error
		if s, err = d.step(s, digits[i]-'0'); err != nil {
			return false, err
		}
		if s == dfaDead {
			return false, nil
		}
	}
	return d.states[s].accept, nil
}

// prefix reports whether the expression matches some prefix of digits (the empty one
// included), as regexp's "^(?:pattern)" does.
func (d *digitDFA) prefix(digits string) (bool, error) {
	s := d.start
	for i := 0; ; i++ {
		if d.states[s].accept {
			return true, nil
		}
		if i == len(digits) || s == dfaDead {
			return false, nil
		}
		var err error
		if s, err = d.step(s, digits[i]-'0'); err != nil {
			return false, err
		}
	}
}
