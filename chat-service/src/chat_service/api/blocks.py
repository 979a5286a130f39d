"""Routes of blocks: `PUT`, `DELETE /blocks/{user_id}` and `GET /blocks` (DESIGN.md
"Safety"). A block is one-way: the blocked user's sends into the pair's chat get 403."""

import uuid

from fastapi import APIRouter, Response, status

from auth_validator.fastapi import BearerToken, CurrentPrincipal
from chat_common.error_model import error_responses
from chat_service.api.dependencies import BlocksDep
from chat_service.api.schemas import BlockList, BlockPublic

router = APIRouter(tags=["blocks"])

_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (503, "Cassandra or the auth service is unavailable"),
)
_CHANGE_ERRORS = {
    **_ERRORS,
    **error_responses((404, "Unknown user"), (422, "Not a user id, or the caller's own")),
}


@router.put(
    "/blocks/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_CHANGE_ERRORS,
)
async def block_user(
    user_id: uuid.UUID, principal: CurrentPrincipal, token: BearerToken, blocks: BlocksDep
) -> None:
    """Block `user_id`: their sends into your direct chat are refused (403 `blocked`) on
    every replica within about a second. Blocking again changes nothing."""
    await blocks.block(principal.id, user_id, token)


@router.delete(
    "/blocks/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_CHANGE_ERRORS,
)
async def unblock_user(
    user_id: uuid.UUID, principal: CurrentPrincipal, token: BearerToken, blocks: BlocksDep
) -> None:
    """Lift a block (a user not blocked stays so)."""
    await blocks.unblock(principal.id, user_id, token)


@router.get("/blocks", responses=_ERRORS)
async def list_blocks(principal: CurrentPrincipal, blocks: BlocksDep) -> BlockList:
    """Everyone you blocked, with when."""
    listed = await blocks.listed(principal.id)
    return BlockList(
        items=[BlockPublic(user_id=b.user_id, blocked_at=b.blocked_at) for b in listed]
    )
