/// The boundary of a `BitMask` as closed loops along pixel edges.
///
/// detectron2's `GenericMask.mask_to_polygons` asks OpenCV for contours through pixel centres
/// (`+0.5`), which shrinks every mask by half a pixel and drops one-pixel parts. Tracing the
/// cracks between set and unset pixels instead gives loops that, filled with the even-odd
/// rule, cover exactly the mask's pixels, holes included.
struct MaskOutline: Sendable, Equatable {
    /// A corner of the pixel grid: `(x, y)` in image pixels, `0...width` by `0...height`.
    struct Vertex: Sendable, Equatable {
        var x: Int
        var y: Int
    }

    /// Closed loops of corners (the last joins back to the first); outer boundaries run clockwise
    /// on screen, holes counter-clockwise.
    var loops: [[Vertex]]

    /// Traces every boundary of `mask`. An empty mask has no loops.
    init(tracing mask: BitMask) {
        loops = MaskOutline.trace(mask)
    }

    // Directions in the order of a right turn on screen (y grows downwards).
    private static let east: UInt8 = 0, south: UInt8 = 1, west: UInt8 = 2, north: UInt8 = 3

    private static func trace(_ mask: BitMask) -> [[Vertex]] {
        let width = mask.width, height = mask.height
        guard width > 0, height > 0 else { return [] }

        // Work inside the bounding box of the set pixels: masks are usually small.
        var minX = width, minY = height, maxX = -1, maxY = -1
        mask.bits.withUnsafeBufferPointer { bits in
            for y in 0..<height {
                let row = y * width
                for x in 0..<width where bits[row + x] != 0 {
                    if x < minX { minX = x }
                    if x > maxX { maxX = x }
                    if y < minY { minY = y }
                    if y > maxY { maxY = y }
                }
            }
        }
        guard maxX >= 0 else { return [] }

        let boxWidth = maxX - minX + 1, boxHeight = maxY - minY + 1
        let stride = boxWidth + 1  // vertices per row
        // Bit `d` of `outgoing[v]` is set when a boundary edge leaves vertex `v` in direction `d`.
        var outgoing = [UInt8](repeating: 0, count: stride * (boxHeight + 1))
        mask.bits.withUnsafeBufferPointer { bits in
            outgoing.withUnsafeMutableBufferPointer { out in
                func isSet(_ x: Int, _ y: Int) -> Bool {
                    // x, y are local to the box; outside the box nothing is set.
                    guard x >= 0, y >= 0, x < boxWidth, y < boxHeight else { return false }
                    return bits[(y + minY) * width + x + minX] != 0
                }
                for y in 0..<boxHeight {
                    for x in 0..<boxWidth where isSet(x, y) {
                        // Each edge keeps its pixel on the right-hand side.
                        if !isSet(x, y - 1) { out[y * stride + x] |= 1 << east }
                        if !isSet(x + 1, y) { out[y * stride + x + 1] |= 1 << south }
                        if !isSet(x, y + 1) { out[(y + 1) * stride + x + 1] |= 1 << west }
                        if !isSet(x - 1, y) { out[(y + 1) * stride + x] |= 1 << north }
                    }
                }
            }
        }

        let step = [1, stride, -1, -stride]  // vertex offset of one edge east, south, west, north
        var loops: [[Vertex]] = []
        outgoing.withUnsafeMutableBufferPointer { out in
            func vertex(_ v: Int) -> Vertex { Vertex(x: v % stride + minX, y: v / stride + minY) }
            for start in 0..<out.count where out[start] != 0 {
                while out[start] != 0 {
                    var direction = UInt8(out[start].trailingZeroBitCount)
                    out[start] &= ~(1 << direction)
                    var loop = [vertex(start)]
                    var position = start + step[Int(direction)]
                    while position != start {
                        let options = out[position]
                        // Where two loops touch at a corner, turn right: parts that meet only
                        // diagonally stay separate loops (4-connectivity).
                        var next = direction
                        for turn: UInt8 in [1, 0, 3] {
                            let candidate = (direction + turn) & 3
                            if options & (1 << candidate) != 0 { next = candidate; break }
                        }
                        precondition(options & (1 << next) != 0, "mask boundary is not closed at vertex \(position)")
                        out[position] &= ~(1 << next)
                        if next != direction { loop.append(vertex(position)) }
                        direction = next
                        position += step[Int(direction)]
                    }
                    loops.append(loop)
                }
            }
        }
        return loops
    }
}
