// torn fuzz's result printing, shared with torn merge (a merged campaign prints as torn fuzz does).
#pragma once

#include "campaign/campaign.h"

namespace torn::cli {

// Prints a campaign's result (the human summary, or --json); returns the exit status (0 no finding,
// 1 findings). o gives the database's name and the options the reproduce commands carry.
int PrintCampaign(const campaign::CampaignOptions& o, const campaign::CampaignResult& r, bool json);

}  // namespace torn::cli
