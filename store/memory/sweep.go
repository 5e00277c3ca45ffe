package memory

import "time"

// Sweeping bounds: a full sweep of expired entries runs at most every
// sweepInterval of clock time, or sooner once the number of entries has
// doubled since the last sweep, which keeps the amortised cost per write
// constant while memory stays proportional to the live entries.
const (
	sweepInterval = time.Minute
	sweepMinSize  = 1024
)

// sweeper decides when a map of expiring entries is due for a sweep.
type sweeper struct {
	last   time.Time
	sizeAt int // sweep when the map reaches this size
}

func (sw *sweeper) due(now time.Time, size int) bool {
	if sw.last.IsZero() {
		sw.last = now
	}
	return size >= max(sw.sizeAt, sweepMinSize) || now.Sub(sw.last) >= sweepInterval
}

func (sw *sweeper) done(now time.Time, size int) {
	sw.last = now
	sw.sizeAt = 2 * size
}
