// The stdio transport (Stdio.h): a child process on pipes, one thread per direction, a thread per held call, and
// the gate's own tools/list requests to the server, answered on the server's stdout like any response.
#include "omega/gate/Stdio.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <thread>

namespace omega::gate {
namespace {

// Reads lines of at most `limit` bytes from a file descriptor. A longer line is skipped to its end and reported as
// oversized (its length), without being held in memory.
class LineReader {
public:
    // `stop`: a descriptor that becomes readable when reading should end (-1: none).
    LineReader(int fd, std::size_t limit, int stop = -1) : fd_(fd), limit_(limit), stop_(stop) {}
    enum class Status : std::uint8_t { Line, Oversized, End };
    Status next(std::string& line, std::size_t& length) {
        line.clear();
        length = 0;
        bool skipping = false;
        for (;;) {
            const auto nl = buffer_.find('\n', scanned_);
            if (nl != std::string::npos) {
                length += nl;
                if (!skipping) line.assign(buffer_, 0, nl);
                buffer_.erase(0, nl + 1);
                scanned_ = 0;
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return skipping || length > limit_ ? Status::Oversized : Status::Line;
            }
            scanned_ = buffer_.size();
            if (buffer_.size() > limit_) {
                skipping = true;
                length += buffer_.size();
                buffer_.clear();
                scanned_ = 0;
            }
            if (stop_ >= 0) {
                pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_, POLLIN, 0}};
                if (::poll(fds, 2, -1) < 0) {
                    if (errno == EINTR) continue;
                    return Status::End;
                }
                if (fds[1].revents) return Status::End;
            }
            char chunk[65536];
            const ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (!skipping && !buffer_.empty()) {  // a last message without a newline
                    line.swap(buffer_);
                    buffer_.clear();
                    scanned_ = 0;
                    return line.size() > limit_ ? Status::Oversized : Status::Line;
                }
                return Status::End;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
    std::size_t limit_;
    int stop_;
    std::string buffer_;
    std::size_t scanned_ = 0;
};

class Writer {
public:
    explicit Writer(int fd) : fd_(fd) {}
    bool line(std::string_view text) {
        std::lock_guard lock(mutex_);
        if (fd_ < 0) return false;
        std::string out;
        out.reserve(text.size() + 1);
        out.append(text);
        out += '\n';
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    void close() {
        std::lock_guard lock(mutex_);
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    std::mutex mutex_;
    int fd_;
};

// The gate's own requests to the server (tools/list), matched to their responses by id.
class OwnRequests {
public:
    OwnRequests() {
        unsigned char nonce[8];
        if (RAND_bytes(nonce, sizeof nonce) != 1) std::memset(nonce, 0, sizeof nonce);
        static constexpr char kHex[] = "0123456789abcdef";
        prefix_ = "omega-gate-";
        for (unsigned char c : nonce) {
            prefix_ += kHex[c >> 4];
            prefix_ += kHex[c & 15];
        }
        prefix_ += '-';
    }
    const std::string& prefix() const { return prefix_; }
    std::string open() {
        std::lock_guard lock(mutex_);
        std::string id = prefix_ + std::to_string(++next_);
        waiting_[id];
        return id;
    }
    // True when `text` answers one of ours (it is then delivered).
    bool deliver(std::string_view id, std::string text) {
        std::lock_guard lock(mutex_);
        auto it = waiting_.find(std::string(id));
        if (it == waiting_.end()) return false;
        it->second = std::move(text);
        done_.notify_all();
        return true;
    }
    std::optional<std::string> wait(const std::string& id, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        done_.wait_for(lock, timeout, [&] { return closed_ || waiting_[id].has_value(); });
        auto value = std::move(waiting_[id]);
        waiting_.erase(id);
        return value;
    }
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        done_.notify_all();
    }

private:
    std::string prefix_;
    std::mutex mutex_;
    std::condition_variable done_;
    std::map<std::string, std::optional<std::string>> waiting_;
    std::uint64_t next_ = 0;
    bool closed_ = false;
};

}  // namespace

int spawnServer(const std::vector<std::string>& command, int& toChild, int& fromChild, std::string& error) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return -1;
    }
    std::vector<char*> argv;
    for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        return -1;
    }
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;  // the gate blocks the signals it waits for; the server gets them as usual
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvp(argv[0], argv.data());
        const std::string msg = "omega-gate: cannot run `" + command[0] + "`: " + std::strerror(errno) + "\n";
        (void)!::write(2, msg.data(), msg.size());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    toChild = in[1];
    fromChild = out[0];
    return pid;
}

int runStdio(Guard& guard, const std::string& server, const Caller& caller, const StdioOptions& options) {
    auto say = [&](const std::string& line) {
        if (options.diagnostics) options.diagnostics(line);
    };
    if (options.command.empty()) {
        say("no server command");
        return 127;
    }
    ::signal(SIGPIPE, SIG_IGN);
    int toChild = -1, fromChild = -1;
    std::string error;
    const pid_t pid = spawnServer(options.command, toChild, fromChild, error);
    if (pid < 0) {
        say("cannot start the server: " + error);
        return 127;
    }
    if (options.started) options.started(pid);

    int serverGone[2];
    if (::pipe2(serverGone, O_CLOEXEC) != 0) {
        say(std::string("pipe: ") + std::strerror(errno));
        return 127;
    }
    McpSession session(guard, server, caller);
    session.diagnostics = say;
    Writer toServer(toChild), toClient(options.out);
    OwnRequests own;
    std::atomic<std::uint32_t> held{0};
    std::mutex heldMutex;
    std::condition_variable heldDone;
    const std::size_t limit = guard.config().maxMessageBytes;

    const McpSession::ListTools listTools = [&](const std::string& cursor) -> Result<std::string> {
        const std::string id = own.open();
        std::string request = "{\"jsonrpc\":\"2.0\",\"id\":" + json::quote(id) + ",\"method\":\"tools/list\"";
        request +=
            cursor.empty() ? std::string(",\"params\":{}") : ",\"params\":{\"cursor\":" + json::quote(cursor) + "}";
        request += '}';
        if (!toServer.line(request)) return bundle::Error{"the server's stdin is closed"};
        auto answer = own.wait(id, std::chrono::seconds(30));
        if (!answer) return bundle::Error{"the server did not answer tools/list"};
        return std::move(*answer);
    };

    std::thread fromServer([&] {
        LineReader reader(fromChild, limit);
        std::string line;
        std::size_t length = 0;
        for (;;) {
            const auto status = reader.next(line, length);
            if (status == LineReader::Status::End) break;
            if (status == LineReader::Status::Oversized) {
                say("the server sent a message of " + std::to_string(length) + " bytes, over the limit; dropped");
                continue;
            }
            if (line.empty()) continue;
            if (line.find(own.prefix()) != std::string::npos) {
                json::Parsed p;
                std::string err;
                if (json::parse(line, p, err, limit)) {
                    const json::Rpc rpc = json::classify(p);
                    if (rpc.kind == json::Rpc::Kind::Response && rpc.id.size() > 2 &&
                        own.deliver(std::string_view(rpc.id).substr(1, rpc.id.size() - 2), line))
                        continue;
                }
            }
            std::string out = session.fromServer(std::move(line));
            if (!out.empty() && !toClient.line(out)) break;
        }
        own.close();
        // The server is gone: the client's side is read no more.
        (void)!::write(serverGone[1], "x", 1);
    });

    {
        LineReader reader(options.in, limit, serverGone[0]);
        std::string line;
        std::size_t length = 0;
        for (;;) {
            const auto status = reader.next(line, length);
            if (status == LineReader::Status::End) break;
            if (status == LineReader::Status::Oversized) {
                toClient.line(json::errorReply("null", json::kTooLarge,
                                               "message of " + std::to_string(length) +
                                                   " bytes exceeds the gate's limit of " + std::to_string(limit) +
                                                   " bytes"));
                continue;
            }
            if (line.empty()) continue;
            Step step = session.fromClient(std::move(line));
            if (step.kind == Step::Kind::Forward) {
                if (!toServer.line(step.text)) break;
            } else if (step.kind == Step::Kind::Reply) {
                toClient.line(step.text);
            } else if (held.load() >= guard.config().maxHeldCalls) {
                toClient.line(
                    json::errorReply(step.held->id, json::kDenied, "denied by the gate: too many calls are waiting"));
            } else {
                ++held;
                std::thread([&, h = step.held] {
                    Step done = session.finish(*h, listTools);
                    if (done.kind == Step::Kind::Forward)
                        toServer.line(done.text);
                    else
                        toClient.line(done.text);
                    std::lock_guard lock(heldMutex);
                    --held;
                    heldDone.notify_all();
                }).detach();
            }
        }
    }
    // The client is done: let held calls finish (each is bounded by the approval timeout), then close the server's
    // stdin, which is how an MCP stdio server is told to exit.
    {
        std::unique_lock lock(heldMutex);
        heldDone.wait(lock, [&] { return held.load() == 0; });
    }
    toServer.close();
    fromServer.join();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(fromChild);
    ::close(serverGone[0]);
    ::close(serverGone[1]);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace omega::gate
