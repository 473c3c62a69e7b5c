package csvin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"smscast/smpp/coding"
)

// batchSize is how many records travel together between the Reader's goroutines: enough that
// the hand-over costs nothing per row, few enough that memory stays flat.
const batchSize = 256

// maxEvaluators bounds the goroutines that evaluate rows in parallel.
const maxEvaluators = 4

// errClosed is what Next returns after Close.
var errClosed = errors.New("csvin: Next called after Close")

// pipeline runs the Reader's goroutines. One reads records in file order and hands them out
// in batches; a few evaluate batches in parallel (numbers, template, sender, encoding: the
// costly part); Next takes the batches back in file order and applies what depends on the
// order, the duplicate check and the shard.
type pipeline struct {
	evaluators []*evaluator
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	ordered    chan *batch // every batch, in file order; closed by the reading goroutine
	free       chan *batch // batches Next is done with, for the reading goroutine to reuse
	cur        *batch      // the batch Next is taking rows from
	at         int         // the next row of cur
	err        error       // io.EOF, a file error, or errClosed: what Next returns from now on
}

// batch is consecutive records and, once done is closed, their rows. Batches are reused, so
// that their slices are allocated once rather than for every row.
type batch struct {
	first int // Num of recs[0]
	recs  [][]string
	pos   [][]fieldPos
	cells []string   // backing store of recs
	flat  []fieldPos // backing store of pos
	rows  []Row
	err   error // a file error after the records; the rows before it stand
	done  chan struct{}
}

// reset empties b for the records from row first on.
func (b *batch) reset(first int) {
	clear(b.cells) // let the previous strings go
	b.first, b.err = first, nil
	b.recs, b.pos, b.cells, b.flat, b.rows = b.recs[:0], b.pos[:0], b.cells[:0], b.flat[:0], b.rows[:0]
	b.done = make(chan struct{})
}

// newEvaluators makes one evaluator per goroutine that will evaluate rows.
func (r *Reader) newEvaluators() error {
	n := min(max(runtime.GOMAXPROCS(0), 1), maxEvaluators)
	for range n {
		numbers, err := newNumbers(r.cfg.DefaultRegion)
		if err != nil {
			return err
		}
		r.evaluators = append(r.evaluators, &evaluator{campaign: r.campaign, numbers: numbers})
	}
	return nil
}

// start starts the reading goroutine and the evaluating ones; stop ends them.
func (r *Reader) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	work := make(chan *batch, len(r.evaluators))
	r.ordered = make(chan *batch, 2*len(r.evaluators))
	// Every batch in flight can wait here: in ordered, with an evaluator, in work, and Next's.
	r.free = make(chan *batch, cap(r.ordered)+2*len(r.evaluators)+1)
	r.wg.Add(1 + len(r.evaluators))
	go func() {
		defer r.wg.Done()
		r.produce(ctx, work)
	}()
	for _, e := range r.evaluators {
		go func() {
			defer r.wg.Done()
			for b := range work {
				b.rows = slices.Grow(b.rows[:0], len(b.recs))[:len(b.recs)]
				for i, rec := range b.recs {
					b.rows[i] = e.evaluate(b.first+i, rec, b.pos[i])
				}
				close(b.done)
			}
		}()
	}
}

// produce reads the recipients in batches and hands each to Next (in order) and to an
// evaluator, until the end of the file, a file error, or ctx ends.
func (r *Reader) produce(ctx context.Context, work chan<- *batch) {
	defer close(work)
	defer close(r.ordered)
	num := 0
	for end := false; !end; {
		var b *batch
		select {
		case b = <-r.free:
		default:
			b = &batch{}
		}
		b.reset(num + 1)
		for len(b.recs) < batchSize {
			rec := r.pending
			if rec != nil {
				r.pending = nil
			} else {
				var err error
				if rec, err = r.table.next(); err != nil {
					if !errors.Is(err, io.EOF) {
						b.err = err
					}
					end = true
					break
				}
			}
			num++
			// The table reuses its slice (not the strings): keep the cells in the batch.
			// A sub-slice stays valid when append moves the backing store.
			start := len(b.cells)
			b.cells = append(b.cells, rec...)
			b.recs = append(b.recs, b.cells[start:len(b.cells):len(b.cells)])
			for i := range rec {
				line, col := r.table.csv.FieldPos(i)
				b.flat = append(b.flat, fieldPos{line: int32(line), col: int32(col)})
			}
			b.pos = append(b.pos, b.flat[start:len(b.flat):len(b.flat)])
		}
		select {
		case r.ordered <- b:
		case <-ctx.Done():
			return
		}
		if len(b.recs) == 0 {
			close(b.done)
			continue
		}
		select {
		case work <- b:
		case <-ctx.Done():
			return
		}
	}
}

// stop ends the goroutines and waits for them.
func (r *Reader) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
	r.cancel = nil
	r.cur, r.err = nil, errClosed
}

// Next returns the next row of this shard, io.EOF after the last one, or an error about the
// file (a *RowError: broken quoting, a byte that is not valid UTF-8) after which the file
// cannot be trusted and Next returns the same error again. A problem with the row itself is
// not an error: the row comes back with StatusInvalid and Err set.
func (r *Reader) Next() (Row, error) {
	for {
		if r.cur == nil {
			if r.err != nil {
				return Row{}, r.err
			}
			b, ok := <-r.ordered
			if !ok {
				r.err = io.EOF
				continue
			}
			<-b.done
			r.cur, r.at = b, 0
		}
		if r.at == len(r.cur.rows) {
			r.err = r.cur.err
			select {
			case r.free <- r.cur:
			default:
			}
			r.cur = nil
			continue
		}
		row := r.cur.rows[r.at]
		r.cur.rows[r.at] = Row{}
		r.at++
		// Rows of other shards count for the duplicate check too, so that every shard marks
		// the same rows as duplicates as a run over the whole file would.
		r.dedupe(&row)
		if r.cfg.Shard.Keeps(row.Num) {
			return row, nil
		}
	}
}

// dedupe marks a valid row whose number an earlier valid row has as a duplicate.
func (r *Reader) dedupe(row *Row) {
	if r.seen == nil || row.Status != StatusOK {
		return
	}
	key, ok := numberKey(row.MSISDN)
	if !ok || key == 0 {
		return
	}
	if first, dup := r.seen.add(key, int32(row.Num)); dup {
		row.Status = StatusDuplicate
		row.Reason = fmt.Sprintf("same number as row %d", first)
		row.Message = coding.Message{}
	}
}
