import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Memory the engine keeps between images for reuse.
public enum EngineMemory {
    /// Frees the activation buffers and scratchpads kept for the next image and returns freed
    /// heap memory to the system. For a process that is done with inference, or between models
    /// (`zoo-bench engine` calls it so each model's peak memory is its own); the next image
    /// allocates afresh. A model's pooled RoI features of its last image (50 MB for 1000
    /// proposals) are the model's own and go with it.
    public static func releaseCaches() {
        DNNLBufferPool.shared.releaseAll()
        DNNLScratchpadPool.shared.releaseAll()
        #if canImport(Glibc)
        // glibc's malloc_trim (in <malloc.h>, which the Glibc module leaves out), looked up at run time.
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            typealias MallocTrim = @convention(c) (Int) -> Int32
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
        #endif
    }
}
