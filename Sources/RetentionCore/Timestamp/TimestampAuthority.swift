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
    /// How long one request may take in all (a slow authority trickling bytes included).
    var timeout: TimeInterval = 20

    /// The authority at `url`; throws a configuration error (78) for an address that is not http(s).
    public init(url: String, authorities: [Certificate] = []) throws {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), !(parsed.host ?? "").isEmpty else {
            throw UsageError("tsa_url \(visible(Self.withoutCredentials(url))) is not an http:// or https:// address of a time-stamping authority",
                             exitCode: .config)
        }
        self.url = parsed
        self.authorities = authorities
    }

    /// An address as it may be shown: a user and password in it (`https://user:pw@host/`) left out.
    public static func withoutCredentials(_ url: String) -> String {
        url.replacingOccurrences(of: #"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@"#, with: "$1", options: .regularExpression)
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

    /// One POST of `body` as `application/timestamp-query`; the response body of a 200 answer, read
    /// only up to 1 MiB (a response is a few KiB) and within `timeout` in all.
    private func post(_ body: Data) throws -> Data {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.setValue("application/timestamp-reply", forHTTPHeaderField: "Accept")
        request.httpBody = body
        let reader = BoundedBody(limit: 1 << 20)
        let session = URLSession(configuration: .ephemeral, delegate: reader, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        let task = session.dataTask(with: request)
        task.resume()
        guard reader.done.wait(timeout: .now() + timeout) == .success else {
            task.cancel()
            throw Failure(description: "\(name) did not answer within \(Int(timeout)) s")
        }
        return try reader.state.withLock { state in
            if state.tooLarge { throw Failure(description: "\(name) sent a response larger than 1 MiB; not read") }
            if let error = state.error { throw Failure(description: "\(name) could not be reached: \(error.localizedDescription)") }
            if state.status != 200 { throw Failure(description: "\(name) answered HTTP \(state.status)") }
            return state.data
        }
    }

    /// A response body read as it comes, refused past `limit` bytes (by its announced length, or as it grows).
    private final class BoundedBody: NSObject, URLSessionDataDelegate, Sendable {
        struct State {
            var data = Data()
            var status = 0
            var tooLarge = false
            var error: (any Error)?
        }
        let limit: Int
        let state = Mutex(State())
        let done = DispatchSemaphore(value: 0)

        init(limit: Int) { self.limit = limit }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            let tooLarge = response.expectedContentLength > Int64(limit)
            state.withLock {
                $0.status = (response as? HTTPURLResponse)?.statusCode ?? 0
                $0.tooLarge = tooLarge
            }
            completionHandler(tooLarge ? .cancel : .allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let over = state.withLock { state in
                state.data.append(data)
                state.tooLarge = state.tooLarge || state.data.count > limit
                if state.tooLarge { state.data = Data() }
                return state.tooLarge
            }
            if over { dataTask.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            state.withLock { $0.error = $0.tooLarge ? nil : error }
            done.signal()
        }
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
