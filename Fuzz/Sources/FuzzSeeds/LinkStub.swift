/// Never called. `-sanitize=fuzzer` links libFuzzer whole, whose own `main` refers to this symbol; the
/// seed writer is built with the fuzz targets' flags (one build folder), so it must define it to link.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { 0 }
