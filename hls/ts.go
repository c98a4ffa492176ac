package hls

import "fmt"

// MPEG-TS constants (ISO/IEC 13818-1).
const (
	tsPacketSize = 188
	tsSyncByte   = 0x47
	pidPAT       = 0x0000
	tablePAT     = 0x00
	tablePMT     = 0x02
	// maxSectionBytes is the largest PAT or PMT section: section_length
	// is at most 1021 (2.4.4.3), plus the 3 bytes before it.
	maxSectionBytes = 1024
)

// tsPacket is one 188-byte transport packet's header fields and payload.
type tsPacket struct {
	pid     uint16
	start   bool // payload_unit_start_indicator
	payload []byte
}

// tsPackets splits data into transport packets. A partial packet at the
// end (a truncated segment) is ignored; a packet without the sync byte
// means the bytes are not MPEG-TS (lmx takes what ffmpeg writes: packets
// from byte 0, no resynchronising needed). Packets flagged with a
// transport error and those whose adaptation field overruns the packet
// carry no payload.
func tsPackets(data []byte) ([]tsPacket, error) {
	if len(data) < tsPacketSize {
		return nil, fmt.Errorf("%w: %d bytes, less than one %d-byte packet", ErrNotTS, len(data), tsPacketSize)
	}
	pkts := make([]tsPacket, 0, len(data)/tsPacketSize)
	for off := 0; off+tsPacketSize <= len(data); off += tsPacketSize {
		p := data[off : off+tsPacketSize]
		if p[0] != tsSyncByte {
			return nil, fmt.Errorf("%w: packet %d (byte %d) starts with %#02x, not the sync byte 0x47", ErrNotTS, off/tsPacketSize, off, p[0])
		}
		pkt := tsPacket{pid: uint16(p[1]&0x1f)<<8 | uint16(p[2]), start: p[1]&0x40 != 0}
		afc := p[3] >> 4 & 3
		body := 4
		if afc&2 != 0 { // adaptation field
			body = 5 + int(p[4])
		}
		if p[1]&0x80 == 0 && afc&1 != 0 && body <= tsPacketSize { // no transport error, has a payload
			pkt.payload = p[body:]
		}
		pkts = append(pkts, pkt)
	}
	return pkts, nil
}

// readSection returns the first complete PSI section on pid whose
// table_id is table and whose CRC is right, or nil. Sections may span
// packets (pointer_field on the packet where one starts); a section that
// is cut short, too long, of another table or with a bad CRC is passed
// over for the next one.
func readSection(pkts []tsPacket, pid uint16, table byte) []byte {
	var buf []byte
	collecting := false
	for _, p := range pkts {
		if p.pid != pid || len(p.payload) == 0 {
			continue
		}
		pl := p.payload
		if p.start {
			ptr := int(pl[0])
			if 1+ptr > len(pl) {
				collecting = false
				continue
			}
			if collecting {
				buf = append(buf, pl[1:1+ptr]...)
				if s := completeSection(buf, table); s != nil {
					return s
				}
			}
			buf, collecting = append(buf[:0], pl[1+ptr:]...), true
		} else if collecting {
			buf = append(buf, pl...)
		} else {
			continue
		}
		if s := completeSection(buf, table); s != nil {
			return s
		}
		if len(buf) >= 3 && 3+sectionLength(buf) > maxSectionBytes || len(buf) > maxSectionBytes+tsPacketSize {
			collecting = false // a hostile length: wait for the next section start
		}
	}
	return nil
}

func sectionLength(b []byte) int { return int(b[1]&0x0f)<<8 | int(b[2]) }

// completeSection returns the section at the start of b when all of it is
// there and it is a valid section of table, else nil.
func completeSection(b []byte, table byte) []byte {
	if len(b) < 3 {
		return nil
	}
	n := 3 + sectionLength(b)
	// 12 bytes: the 8-byte long-form header and the CRC.
	if n < 12 || n > maxSectionBytes || len(b) < n {
		return nil
	}
	s := b[:n]
	if s[0] != table || s[1]&0x80 == 0 || crcMPEG2(s[:n-4]) != uint32(s[n-4])<<24|uint32(s[n-3])<<16|uint32(s[n-2])<<8|uint32(s[n-1]) {
		return nil
	}
	return append([]byte(nil), s...)
}

// crcTable is CRC-32/MPEG-2: polynomial 0x04C11DB7, not reflected.
var crcTable = func() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return &t
}()

// crcMPEG2 is the CRC_32 of PSI sections (ISO/IEC 13818-1 annex A).
func crcMPEG2(b []byte) uint32 {
	c := uint32(0xffffffff)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}

// pmtPID returns the PID of the first program's PMT listed in a PAT
// section (program_number 0 is the network PID, not a program).
func pmtPID(pat []byte) (uint16, bool) {
	for i := 8; i+4 <= len(pat)-4; i += 4 {
		if program := uint16(pat[i])<<8 | uint16(pat[i+1]); program != 0 {
			return uint16(pat[i+2]&0x1f)<<8 | uint16(pat[i+3]), true
		}
	}
	return 0, false
}

// esInfo is one elementary stream listed in a PMT.
type esInfo struct {
	streamType  byte
	pid         uint16
	descriptors []byte
}

// pmtStreams returns the elementary streams a PMT section lists.
func pmtStreams(pmt []byte) []esInfo {
	end := len(pmt) - 4 // the CRC
	if end < 12 {
		return nil
	}
	i := 12 + (int(pmt[10]&0x0f)<<8 | int(pmt[11])) // after program_info
	var out []esInfo
	for i+5 <= end {
		es := esInfo{streamType: pmt[i], pid: uint16(pmt[i+1]&0x1f)<<8 | uint16(pmt[i+2])}
		n := int(pmt[i+3]&0x0f)<<8 | int(pmt[i+4])
		if i+5+n > end {
			break
		}
		es.descriptors = pmt[i+5 : i+5+n]
		out = append(out, es)
		i += 5 + n
	}
	return out
}

// descriptor returns the body of the first descriptor with tag in a
// descriptor loop.
func descriptor(loop []byte, tag byte) ([]byte, bool) {
	for len(loop) >= 2 {
		n := int(loop[1])
		if 2+n > len(loop) {
			return nil, false
		}
		if loop[0] == tag {
			return loop[2 : 2+n], true
		}
		loop = loop[2+n:]
	}
	return nil, false
}
