// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "zoo",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "zoo", targets: ["zoo"]),
        .executable(name: "zoo-bench", targets: ["zoo-bench"]),
        .library(name: "ZooKit", targets: ["ZooKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // Thin system-library targets: a module map and a shim header each.
        .systemLibrary(name: "CZooCurl", path: "Sources/CZooCurl"),
        .systemLibrary(name: "CZooCrypto", path: "Sources/CZooCrypto"),
        .systemLibrary(name: "CZooDNNL", path: "Sources/CZooDNNL"),
        .systemLibrary(name: "CZooCairo", path: "Sources/CZooCairo"),
        // libjpeg reports errors with longjmp; this small C target catches them and returns a status.
        .target(
            name: "CZooJPEG",
            path: "Sources/CZooJPEG",
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        // libpng reports errors with longjmp too; same arrangement.
        .target(
            name: "CZooPNG",
            path: "Sources/CZooPNG",
            linkerSettings: [.linkedLibrary("png16")]
        ),
        .target(
            name: "ZooKit",
            dependencies: [
                "CZooCurl", "CZooCrypto", "CZooDNNL", "CZooPNG", "CZooCairo", "CZooJPEG",
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/ZooKit",
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "zoo",
            dependencies: [
                "ZooKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/zoo"
        ),
        .executableTarget(
            name: "zoo-bench",
            dependencies: [
                "ZooKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/zoo-bench"
        ),
        .testTarget(
            name: "ZooKitTests",
            dependencies: ["ZooKit"],
            path: "Tests/ZooKitTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
