import ArgumentParser
import Foundation

struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document instead of text (shapes in spec/cli.md).")
    var json = false
}
