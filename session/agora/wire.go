package agora

import (
	"encoding/binary"
	"math"
	"slices"
)

// writer appends the little-endian encoding of AccessToken2 to a buffer.
// Its first failure (a string or a count too long for its uint16 prefix)
// sticks in err.
type writer struct {
	b   []byte
	err error
}

func (w *writer) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }

func (w *writer) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

// count writes n as a uint16 count, recording an error when it does not
// fit.
func (w *writer) count(n int, what string) {
	if n > math.MaxUint16 {
		if w.err == nil {
			w.err = ErrInvalidAccessToken.WithMessage("%s has %d entries, more than the format's %d", what, n, math.MaxUint16)
		}
		n = 0
	}
	w.u16(uint16(n))
}

// str writes s with its uint16 length prefix.
func (w *writer) str(s, what string) {
	if len(s) > math.MaxUint16 {
		if w.err == nil {
			w.err = ErrInvalidAccessToken.WithMessage("%s is %d bytes long, more than the format's %d", what, len(s), math.MaxUint16)
		}
		s = ""
	}
	w.u16(uint16(len(s)))
	w.b = append(w.b, s...)
}

// privileges writes m as a count and (privilege, expire) pairs in
// ascending privilege order, so that the encoding is deterministic.
func (w *writer) privileges(m map[Privilege]uint32) {
	w.count(len(m), "the privilege map")
	var small [8]Privilege
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.u16(uint16(k))
		w.u32(m[k])
	}
}

// reader decodes the little-endian encoding of AccessToken2. Reading past
// the end sets short and returns zero values.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) take(n int) []byte {
	if r.short || len(r.b) < n {
		r.short = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) bytes() []byte {
	n := r.u16()
	return r.take(int(n))
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) privileges() map[Privilege]uint32 {
	n := int(r.u16())
	if r.short || len(r.b) < 6*n {
		r.short = true
		return nil
	}
	if n == 0 {
		return nil
	}
	m := make(map[Privilege]uint32, n)
	for range n {
		k := Privilege(r.u16())
		m[k] = r.u32()
	}
	return m
}
