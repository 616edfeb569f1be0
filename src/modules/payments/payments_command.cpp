// `ticketd payments`: what needs a person, and settling a refused refund by hand.
#include <ostream>

#include "db/database.hpp"
#include "payment_provider.hpp"
#include "payment_store.hpp"
#include "payments_module.hpp"
#include "util/clock.hpp"
#include "util/time_format.hpp"

namespace ticketd::payments {
namespace {

std::string format_ms(std::int64_t ms) { return util::format_rfc3339_ms(util::from_unix_ms(ms)); }

}  // namespace

int payments_command(db::Database& db, const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
    PaymentStore store;
    if (!args.empty()) {
        if (args.size() < 3 || args[0] != "settle") {
            err << "ticketd: usage: ticketd payments [settle PAYMENT_ID NOTE...]\n";
            return 2;
        }
        std::string note;
        for (std::size_t i = 2; i < args.size(); ++i) note += (i > 2 ? " " : "") + args[i];
        db::WriteTx tx(db);
        bool settled = store.settle_refund(tx, args[1], note);
        tx.commit();
        if (!settled) {
            err << "ticketd: no refused refund for payment " << args[1] << "\n";
            return 1;
        }
        out << "refund of payment " << args[1] << " marked settled\n";
        return 0;
    }
    std::vector<Payment> refused;
    std::vector<Attempt> unknown;
    {
        db::ReadLock read(db);
        refused = store.refused_refunds(read);
        unknown = store.unknown_attempts(read);
    }
    if (refused.empty() && unknown.empty()) {
        out << "nothing to settle: every charge is recorded and every refund confirmed\n";
        return 0;
    }
    for (const auto& p : refused)
        out << "refund refused  payment=" << p.id << " order=" << p.order_id
            << " charge=" << p.charge_id << " amount_cents=" << p.amount_cents
            << " paid_at=" << format_ms(p.created_at_ms)
            << "\n    provider said: " << p.refund_error
            << "\n    settle by hand, then: ticketd payments settle " << p.id << " NOTE\n";
    auto now = util::unix_now_ms();
    for (const auto& a : unknown) {
        out << "charge unknown  order=" << a.order_id << " key=" << a.key
            << " amount_cents=" << a.amount_cents << " checks=" << a.checks
            << " since=" << format_ms(a.created_at_ms) << "\n";
        if (a.created_at_ms < now - ask_again_within_ms)
            out << "    too old to ask again (the provider forgets keys after 24 h): look the "
                   "charge up in the "
                   "provider's dashboard and refund it if it was made\n";
        else
            out << "    the server keeps asking the provider with this idempotency key\n";
    }
    return 0;
}

}  // namespace ticketd::payments
