import Crypto
import Dispatch
import Foundation
import SwiftASN1
import Synchronization
import X509
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A time-stamping authority (RFC 3161) reached by HTTP POST (§3.4), and the CA its tokens chain to.
public struct TimestampAuthority: Sendable {
    public let url: URL
    /// The authority's CA certificates (`tsa_ca`); empty: a token is checked for its imprint and nonce only.
    public let authorities: [Certificate]
    var timeout: TimeInterval = 30

    /// The authority at `url`; throws a configuration error (78) for an address that is not http(s).
    public init(url: String, authorities: [Certificate] = []) throws {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
            throw UsageError("tsa_url \(visible(url)) is not an http:// or https:// address of a time-stamping authority", exitCode: .config)
        }
        self.url = parsed
        self.authorities = authorities
    }

    /// The authority named without what its address may carry besides: a user and password stay out of logs.
    public var name: String { "\(url.scheme ?? "http")://\(url.host ?? "")" + (url.port.map { ":\($0)" } ?? "") + url.path }

    /// A refused or failed request, in words for the log; never fatal to a run.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The authority's response (DER TimeStampResp) for bytes whose SHA-256 is `digest`, checked:
    /// granted, for this digest and this request's nonce, signed by a certificate of `authorities`.
    func stamp(sha256 digest: [UInt8]) throws -> (response: Data, time: Date) {
        let nonce = UInt64.random(in: 1...UInt64(Int64.max))
        let request = TimeStampRequest(imprint: MessageImprint(sha256: digest), nonce: nonce)
        let body = try post(Data(request.derBytes))
        let response: TimeStampResponse
        do { response = try TimeStampResponse(derEncoded: Array(body)) } catch {
            throw Failure(description: "\(name) answered with something that is not a time-stamp response")
        }
        guard response.status <= 1, let tokenNode = response.token else {
            throw Failure(description: "\(name) refused the request (status \(response.status)"
                          + (response.statusText.map { ": \(visible(String($0.prefix(200))))" } ?? "") + ")")
        }
        let token: TimeStampToken
        do { token = try TimeStampToken(tokenNode) } catch { throw Failure(description: "\(name) sent a token that cannot be read") }
        guard token.info.imprint == MessageImprint(sha256: digest) else {
            throw Failure(description: "\(name) stamped another hash than the one asked for")
        }
        guard token.info.nonce == nonce else { throw Failure(description: "\(name) answered another request (its nonce differs)") }
        if !authorities.isEmpty, let problem = token.problem(trusting: authorities) {
            throw Failure(description: "the token from \(name) does not check against tsa_ca: \(problem)")
        }
        return (body, token.info.genTime)
    }

    /// One POST of `body` as `application/timestamp-query`; the response body of a 200 answer.
    private func post(_ body: Data) throws -> Data {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.setValue("application/timestamp-reply", forHTTPHeaderField: "Accept")
        request.httpBody = body
        let outcome = Mutex<Result<Data, Failure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let name = name
        session.dataTask(with: request) { data, response, error in
            let result: Result<Data, Failure>
            if let error {
                result = .failure(Failure(description: "\(name) could not be reached: \(error.localizedDescription)"))
            } else if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                result = .failure(Failure(description: "\(name) answered HTTP \(http.statusCode)"))
            } else if let data, data.count <= 1 << 20 {
                result = .success(data)
            } else {
                result = .failure(Failure(description: "\(name) sent no response, or one larger than 1 MiB"))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }.resume()
        // The request's own timeout ends it; this wait only backs that up.
        guard done.wait(timeout: .now() + timeout + 5) == .success, let result = outcome.withLock({ $0 }) else {
            throw Failure(description: "\(name) did not answer within \(Int(timeout)) s")
        }
        return try result.get()
    }

    /// The CA certificates in a PEM file (`tsa_ca`); a configuration error (78) when there are none.
    public static func loadAuthorities(path: String) throws -> [Certificate] {
        let text: String
        switch BoundedFile.read(path, atMost: 1 << 20) {
        case .success(let data): text = String(decoding: data, as: UTF8.self)
        case .failure(let problem): throw UsageError("tsa_ca \(visible(path)) \(problem.description)", exitCode: .config)
        }
        let certificates = (try? PEMDocument.parseMultiple(pemString: text).map { try Certificate(pemDocument: $0) }) ?? []
        guard !certificates.isEmpty else {
            throw UsageError("tsa_ca \(visible(path)) holds no PEM certificate (-----BEGIN CERTIFICATE-----)", exitCode: .config)
        }
        return certificates
    }
}
